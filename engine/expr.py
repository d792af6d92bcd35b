"""The expression language: text such as `(x + y) * z` turned into the graph JSON.

A hand-written tokenizer and a shunting-yard parser with explicit stacks: the text is never
handed to eval, exec, compile or ast, and neither deep nesting nor a long chain of terms
recurses in Python, so both cost time linear in the length of the text.

The language, one statement per line or between `;`:

    x = -2                      # a number or tensor literal defines an input
    W = [[1, 2], [3, 4]]        # tensors are rectangular nested brackets
    b = randn(2, seed=0)        # zeros, ones, eye, randn, onehot are literals too
    q = x + 3                   # any other right side names the node it makes
    sigmoid(q) * -2             # the last statement is the output

Precedence and associativity follow Python: `**` binds tighter than a unary minus on its left
and groups to the right (`-x**2` is `-(x**2)`, `2**-1` is 0.5); `* / @` group to the left, then
`+ -`. A number literal in an expression becomes a `const` node labelled as written; a unary
minus applied directly to a literal folds into it, so `x * -2` makes one const of value -2
rather than a const and a `neg` node (`-x` on a name always makes a `neg` node).
"""

from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.errors import EngineError, GraphError, LimitError, ParseError
from engine.graph import to_value
from engine.limits import DEFAULT_LIMITS, Limits
from engine.ops import OPS

# One match per token: the spaces before it are skipped inside the match. `glued` (a number
# running into a name or a dot, as in 3x or 1.2.3) and `prefixed` (an f-string or other
# prefixed string) exist only to be refused with a clear message.
_NUMBER = r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_TOKEN = re.compile(
    r"[ \t\f\v]*(?:"
    r"(?P<comment>#[^\r\n]*)"
    r"|(?P<newline>\r\n?|\n)"
    rf"|(?P<glued>(?>{_NUMBER})[A-Za-z0-9_.])"
    rf"|(?P<number>{_NUMBER})"
    r"|(?P<prefixed>(?:[rR][bBfF]?|[bB][rR]?|[fF][rR]?|[uU])['\"])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<string>'[^'\r\n]*'|\"[^\"\r\n]*\")"
    r"|(?P<symbol>\*\*|==|!=|<=|>=|:=|//|<<|>>|[-+*/@()\[\],=;.<>%&|^~:{}!])"
    r"|(?P<end>\Z))"
)
_LOOKALIKES = {"−": "-", "–": "-", "×": "*", "·": "*", "÷": "/", "²": "**2"}
_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = frozenset(_OPENERS.values())
_ENDS = ("break", "eof")

# Python's binding powers: unary minus (3) sits between `* / @` (2) and `**` (4).
_BINARY = {
    "+": ("add", 1),
    "-": ("sub", 1),
    "*": ("mul", 2),
    "/": ("div", 2),
    "@": ("matmul", 2),
    "**": ("pow", 4),
}
_UNARY_PRECEDENCE = 3
_CONSTRUCTORS = ("eye", "onehot", "ones", "randn", "zeros")
_LINEAR = "linear"
_LINEAR_NEEDS = ("matmul", "transpose", "add")

_KEYWORDS = frozenset(keyword.kwlist)
_KEYWORD_HINTS = {
    "lambda": "functions cannot be defined here; write the formula out",
    "if": "there are no conditions; max, min, abs and relu cover most uses",
    "else": "there are no conditions; max, min, abs and relu cover most uses",
    "for": "there are no loops or comprehensions; write tensors as [[1, 2], [3, 4]]",
    "while": "there are no loops",
    "in": "there are no loops or membership tests",
    "import": "nothing can be imported; only the listed functions exist",
    "from": "nothing can be imported; only the listed functions exist",
    "True": "True and False only go in keyword values, as in sum(x, keepdims=True)",
    "False": "True and False only go in keyword values, as in sum(x, keepdims=True)",
    "None": "None only goes in keyword values, as in sum(x, axis=None)",
}
_REFUSED_SYMBOLS = {
    "==": ("forbidden_syntax", "comparisons are not part of the language"),
    "!=": ("forbidden_syntax", "comparisons are not part of the language"),
    "<": ("forbidden_syntax", "comparisons are not part of the language"),
    ">": ("forbidden_syntax", "comparisons are not part of the language"),
    "<=": ("forbidden_syntax", "comparisons are not part of the language"),
    ">=": ("forbidden_syntax", "comparisons are not part of the language"),
    ":=": ("forbidden_syntax", "name a value on its own line instead, as in q = x + y"),
    ":": ("forbidden_syntax", "slices, annotations and blocks are not part of the language"),
    "{": ("forbidden_syntax", "braces (sets and dictionaries) are not part of the language"),
    "}": ("forbidden_syntax", "braces (sets and dictionaries) are not part of the language"),
    "//": ("unsupported_operator", "floor division is not supported; use / to divide"),
    "%": ("unsupported_operator", "the remainder operator is not supported"),
    "^": ("unsupported_operator", "write a power as x**2"),
    "&": ("unsupported_operator", "there are no bit or logical operators"),
    "|": ("unsupported_operator", "there are no bit or logical operators"),
    "~": ("unsupported_operator", "there are no bit or logical operators"),
    "<<": ("unsupported_operator", "there are no bit or logical operators"),
    ">>": ("unsupported_operator", "there are no bit or logical operators"),
    "!": ("unsupported_operator", "there are no bit or logical operators"),
}


@dataclass(slots=True)
class Token:
    """One piece of the text and where it starts (1-based line and column)."""

    kind: str  # "number", "name", "string", "symbol", "break" (newline or ;), "eof"
    text: str
    line: int
    column: int
    offset: int


@dataclass(slots=True)
class _Operand:
    """A finished value on the operand stack: a node, or a literal not yet made a node."""

    token: Token
    node_id: str | None = None
    value: Any = None
    label: str | None = None


@dataclass(slots=True)
class _Pending:
    """An operator, open parenthesis or open call waiting on the operator stack."""

    kind: str  # "binary", "unary", "group", "call"
    token: Token
    op: str = ""
    precedence: int = 0
    opener: Token | None = None
    base: int = 0  # operand-stack height when a group or call opened
    attrs: dict = field(default_factory=dict)


def parse(
    text: str, inputs: dict[str, Any] | None = None, limits: Limits = DEFAULT_LIMITS
) -> dict:
    """Parse an expression into the graph JSON that engine.graph.build_graph accepts."""
    return parse_located(text, inputs, limits)[0]


def parse_located(
    text: str, inputs: dict[str, Any] | None = None, limits: Limits = DEFAULT_LIMITS
) -> tuple[dict, dict[str, tuple[int, int]]]:
    """The graph JSON, and for each node the line and column of the text that made it.

    A node the parser names itself (`matmul1`) means nothing to the student who wrote `x @ 3`;
    an error about it can point at the `@` instead.
    """
    if len(text) > limits.max_expression_chars:
        raise LimitError(
            f"the expression has {len(text):,} characters; the limit is "
            f"{limits.max_expression_chars:,} (max_expression_chars)",
            what="expression_chars",
            limit=limits.max_expression_chars,
            actual=len(text),
        )
    parser = _Parser(text, inputs or {}, limits)
    graph = parser.parse()
    return graph, parser.positions


def point_at_text(error: EngineError, positions: dict[str, tuple[int, int]]) -> EngineError:
    """Give an error about a node made from text the line and column of that text."""
    if error.line is not None or not error.node_ids or error.node_ids[0] not in positions:
        return error
    error.line, error.column = positions[error.node_ids[0]]
    error.message += f" ({_at_position(error.line, error.column)})"
    return error


def tokenize(text: str) -> list[Token]:
    """Split the text into tokens; a newline inside brackets does not end a statement.

    The list ends with two "eof" tokens, so the parser may look one token ahead anywhere.
    """
    tokens: list[Token] = []
    append, match_at = tokens.append, _TOKEN.match
    line, line_start, depth, index = 1, 0, 0, 0
    while True:
        match = match_at(text, index)
        if match is None:
            index += len(text[index:]) - len(text[index:].lstrip(" \t\f\v"))
            raise _bad_character(text, index, line, index - line_start + 1)

        kind = match.lastgroup
        start, index = match.start(kind), match.end()
        if kind == "name" or kind == "number":
            append(Token(kind, match[kind], line, start - line_start + 1, start))
        elif kind == "symbol":
            chunk = match[kind]
            if chunk in _OPENERS:
                depth += 1
            elif chunk in _CLOSERS:
                depth = max(depth - 1, 0)
            kind = "break" if chunk == ";" else kind
            append(Token(kind, chunk, line, start - line_start + 1, start))
        elif kind == "newline":
            if depth == 0:
                append(Token("break", "\n", line, start - line_start + 1, start))
            line, line_start = line + 1, index
        elif kind == "string":
            append(Token(kind, match[kind], line, start - line_start + 1, start))
        elif kind == "end":
            break
        elif kind != "comment":
            raise _refused_token(kind, match[kind], line, start - line_start + 1)

    end = Token("eof", "", line, index - line_start + 1, index)
    tokens += (end, end)
    return tokens


def _refused_token(kind: str, chunk: str, line: int, column: int) -> ParseError:
    # Python reads 3x and 1.2.3 as errors too; saying so early gives a clearer message.
    where = _at_position(line, column)
    if kind == "glued":
        return ParseError(
            f"unexpected '{chunk}' {where}: a number cannot run straight into a name "
            f"or another dot; write 2*x for a product",
            line=line,
            column=column,
        )
    prefix, quote = chunk[:-1], chunk[-1]
    return ParseError(
        f"the string prefix {prefix}{quote}...{quote} is not allowed {where}: f-strings "
        f"and other prefixed strings are not part of the language",
        code="forbidden_syntax",
        line=line,
        column=column,
    )


def _bad_character(text: str, index: int, line: int, column: int) -> ParseError:
    character = text[index]
    where = _at_position(line, column)
    if character in ("'", '"'):
        message = f"the string opened {where} is not closed on its line"
    elif character in _LOOKALIKES:
        message = (
            f"unexpected character '{character}' {where}: type it as '{_LOOKALIKES[character]}'"
        )
    else:
        message = f"unexpected character {character!r} {where}"
    return ParseError(message, line=line, column=column)


def _at_position(line: int, column: int) -> str:
    return f"at line {line}, column {column}"


def _at(token: Token) -> str:
    return _at_position(token.line, token.column)


def _show(token: Token) -> str:
    """A token as a sentence names it."""
    if token.kind == "eof":
        return "end of the expression"
    if token.kind == "break":
        return "end of the line" if token.text == "\n" else "';'"
    if token.kind == "name":
        return f"name '{token.text}'"
    if token.kind == "number":
        return f"number {token.text}"
    if token.kind == "string":
        return "string"
    return f"'{token.text}'"


def _error(token: Token, message: str, code: str = "syntax_error") -> ParseError:
    return ParseError(message, code=code, line=token.line, column=token.column)


def _limit(token: Token, message: str, *, what: str, limit, actual) -> LimitError:
    return LimitError(
        message, what=what, limit=limit, actual=actual, line=token.line, column=token.column
    )


def _literal(token: Token) -> int | float:
    """A number as written: whole numbers stay int (attributes need them), others float.

    One too large for float64 is refused here, where the student can see it; float() would
    quietly make it inf.
    """
    text = token.text
    if text.isdigit() and len(text) <= 18:
        return int(text)
    number = float(text)
    if math.isinf(number):
        raise _error(
            token,
            f"the number {_shortened(text)} {_at(token)} is beyond the largest float64 "
            f"(about 1.8e308)",
            "nonfinite_number",
        )
    return number


def _shortened(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:10]}...{text[-6:]} ({len(text)} characters)"


def _json_value(value: Any) -> Any:
    """A literal as the graph JSON holds it; non-finite numbers travel as strings."""
    if np.ndim(value) == 0:
        number = float(value)
        return number if math.isfinite(number) else _nonfinite_name(number)
    array = np.asarray(value, dtype=np.float64)
    if np.isfinite(array).all():
        return array.tolist()
    shown = array.astype(object)
    for index in zip(*np.nonzero(~np.isfinite(array)), strict=True):
        shown[index] = _nonfinite_name(array[index])
    return shown.tolist()


def _nonfinite_name(number: float) -> str:
    if math.isnan(number):
        return "nan"
    return "inf" if number > 0 else "-inf"


def function_names() -> list[str]:
    """Every name that may be called: non-leaf ops, the literal constructors and linear."""
    names = {name for name, op in OPS.items() if not op.is_leaf}
    names.update(_CONSTRUCTORS)
    if all(op in OPS for op in _LINEAR_NEEDS):
        names.add(_LINEAR)
    return sorted(names)


class _Parser:
    """One parse: the tokens, the nodes made so far and the names they carry."""

    def __init__(self, text: str, inputs: dict[str, Any], limits: Limits) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.inputs = inputs
        self.limits = limits
        self.nodes: list[dict] = []
        self.by_id: dict[str, dict] = {}
        # node id -> line and column of the name, operator or call that made it
        self.positions: dict[str, tuple[int, int]] = {}
        self.names: dict[str, str] = {}  # a name in the text -> the id of its node
        self.auto: set[str] = set()  # ids the parser made up; a definition may rename them
        self.counters: dict[str, int] = {}
        # Made-up ids skip every name in the text, so they never collide with one.
        self.taken = {token.text for token in self.tokens if token.kind == "name"}
        self.definitions = self._find_definitions()
        self.defining: Token | None = None
        self.composites: dict[str, list[dict]] = {}  # output id -> nodes of one linear block
        self.depth = 0
        self.elements = 0
        # Unknown names are reported after the whole text parses, so a syntax error anywhere
        # (x.__class__, x[0]) is what a student sees first.
        self.deferred: ParseError | None = None

    def _find_definitions(self) -> dict[str, Token]:
        """The first `name =` of every name, to tell 'used too early' from 'never defined'."""
        found: dict[str, Token] = {}
        at_start = True
        for position, token in enumerate(self.tokens):
            if at_start and token.kind == "name" and self._is_assign(position + 1):
                found.setdefault(token.text, token)
            at_start = token.kind == "break"
        return found

    # -- moving through the tokens -------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        # `ahead` is 0 or 1 and the list ends with two eof tokens, so this never overruns.
        return self.tokens[self.index + ahead]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _is_assign(self, position: int) -> bool:
        token = self.tokens[min(position, len(self.tokens) - 1)]
        return token.kind == "symbol" and token.text == "="

    def _at_symbol(self, *symbols: str) -> bool:
        token = self.peek()
        return token.kind == "symbol" and token.text in symbols

    def enter(self, token: Token) -> None:
        """One level deeper (bracket, call or unary sign); refuse past the nesting limit."""
        self.depth += 1
        if self.depth > self.limits.max_nesting_depth:
            raise _limit(
                token,
                f"the expression nests more than {self.limits.max_nesting_depth} levels deep "
                f"{_at(token)} (max_nesting_depth); split it into named steps",
                what="nesting_depth",
                limit=self.limits.max_nesting_depth,
                actual=self.depth,
            )

    # -- statements ----------------------------------------------------------------------

    def parse(self) -> dict:
        output: str | None = None
        bare: Token | None = None
        unused: Token | None = None
        while True:
            while self.peek().kind == "break":
                self.advance()
            if self.peek().kind == "eof":
                break
            unused = unused or bare
            output, bare = self.statement()

        if self.deferred is not None:
            raise self.deferred
        if output is None:
            raise ParseError(
                "the expression is empty: write something like (x + y) * z",
                code="empty_expression",
                line=1,
                column=1,
            )
        if unused is not None:
            raise _error(
                unused,
                f"the expression {_at(unused)} is not used: only the last statement is the "
                f"output, so give it a name (q = ...) or remove it",
                code="unused_expression",
            )
        self.check_inputs_used()
        return {"schema_version": 1, "nodes": self.nodes, "output": output}

    def check_inputs_used(self) -> None:
        """A value in `inputs` for a name the text computes, or renames, is a mistake.

        Names the text never uses are not: a client may send the values of several
        expressions at once. The API says which it ignored.
        """
        for name in self.inputs:
            node_id = self.names.get(name)
            if node_id is None or node_id == name and self.by_id[name]["op"] == "input":
                continue
            definition = self.definitions[name]
            if self.by_id[node_id]["op"] == "input":
                problem = f"the expression makes '{name}' another name for '{node_id}' "
                problem += f"{_at(definition)}; give the value to '{node_id}'"
            else:
                problem = f"the expression computes '{name}' {_at(definition)}; only a name "
                problem += "set to a number can be given one"
            raise _error(definition, f"inputs gives a value for '{name}', but {problem}",
                         "unknown_input")  # fmt: skip

    def statement(self) -> tuple[str, Token | None]:
        """One statement; returns its node id and, for a bare expression, its first token."""
        first = self.peek()
        if first.kind != "name" or not self._is_assign(self.index + 1):
            operand = self.expression()
            return self.materialize(operand), first

        self.check_name(first)
        if first.text in self.names:
            raise _error(
                first,
                f"'{first.text}' is defined a second time {_at(first)}; every name is "
                f"defined once, so pick a new name",
                code="redefined",
            )
        self.index += 2
        self.defining = first
        operand = self.expression()
        self.defining = None
        return self.define(first, operand), None

    def define(self, name_token: Token, operand: _Operand) -> str:
        """Give the statement's value a name: an input, a renamed node, or an alias."""
        name = name_token.text
        if operand.node_id is None:
            value = self.inputs[name] if name in self.inputs else _json_value(operand.value)
            self.append({"id": name, "op": "input", "value": value}, name_token)
            node_id = name
        elif operand.node_id in self.auto:
            node_id = self.rename(operand.node_id, name)
        else:
            node_id = operand.node_id
        self.names[name] = node_id
        return node_id

    def rename(self, old: str, new: str) -> str:
        # The statement's last node: nothing refers to it yet, so the rename is local.
        node = self.by_id.pop(old)
        node["id"] = new
        self.by_id[new] = node
        self.positions[new] = self.positions.pop(old)
        self.auto.discard(old)
        for member in self.composites.pop(old, []):
            member["group"] = new
        return new

    def check_name(self, token: Token) -> None:
        if token.text in _KEYWORDS:
            hint = _KEYWORD_HINTS.get(
                token.text, "the language has only expressions and name = ... lines"
            )
            raise _error(
                token, f"'{token.text}' is not allowed {_at(token)}: {hint}", "forbidden_syntax"
            )
        if token.text.startswith("__"):
            raise _error(
                token,
                f"the name '{token.text}' is not allowed {_at(token)}: names that start with "
                f"'__' are reserved",
                "forbidden_syntax",
            )

    # -- expressions: shunting-yard over explicit stacks ----------------------------------

    def expression(self) -> _Operand:
        """Parse up to the end of the statement without recursion."""
        operands: list[_Operand] = []
        pending: list[_Pending] = []
        wants_value = True
        while wants_value or self.peek().kind not in _ENDS:
            if wants_value:
                wants_value = self.value_step(operands, pending)
            else:
                wants_value = self.operator_step(operands, pending)

        self.reduce(operands, pending, 0, False)
        if pending:
            raise self.unclosed(pending[-1], self.peek())
        return operands.pop()

    def value_step(self, operands: list[_Operand], pending: list[_Pending]) -> bool:
        """Read a value or a prefix; returns whether a value is still wanted."""
        token = self.peek()
        if token.kind == "number":
            self.advance()
            number = np.float64(_literal(token))
            operands.append(_Operand(token, value=number, label=token.text))
            return False
        if token.kind == "name":
            return self.name_step(token, operands, pending)
        if token.kind == "symbol" and token.text in ("-", "+"):
            self.advance()
            op = "neg" if token.text == "-" else "pos"
            pending.append(_Pending("unary", token, op, _UNARY_PRECEDENCE))
            self.enter(token)
            return True
        if token.kind == "symbol" and token.text == "(":
            self.advance()
            pending.append(_Pending("group", token, opener=token, base=len(operands)))
            self.enter(token)
            if self._at_symbol(")"):
                raise _error(self.peek(), f"unexpected ')' {_at(self.peek())}: the ( ) is empty")
            return True
        if token.kind == "symbol" and token.text == "[":
            operands.append(self.tensor_literal())
            return False
        raise self.unexpected_value(token)

    def name_step(self, token: Token, operands: list[_Operand], pending: list[_Pending]) -> bool:
        self.check_name(token)
        after = self.peek(1)
        if not (after.kind == "symbol" and after.text == "("):
            self.advance()
            operands.append(_Operand(token, node_id=self.variable(token)))
            return False

        if token.text in _CONSTRUCTORS:
            operands.append(self.constructor())
            return False
        name = self.function(token)
        self.index += 2
        frame = _Pending("call", token, name, opener=after, base=len(operands))
        pending.append(frame)
        self.enter(after)
        return self.argument_start(frame, operands, pending)

    def operator_step(self, operands: list[_Operand], pending: list[_Pending]) -> bool:
        """Read what follows a value; returns whether a value is wanted next."""
        token = self.peek()
        if token.kind == "symbol" and token.text in _BINARY:
            self.binary(token, operands, pending)
            return True
        if token.kind == "symbol" and token.text == ")":
            self.close(token, operands, pending)
            return False
        if token.kind == "symbol" and token.text == ",":
            self.reduce(operands, pending, 0, False)
            if not pending or pending[-1].kind != "call":
                raise _error(
                    token,
                    f"unexpected ',' {_at(token)}: commas only separate the inputs of a "
                    f"function call (tuples are not allowed)",
                )
            self.advance()
            return self.argument_start(pending[-1], operands, pending)
        raise self.unexpected_operator(token, pending)

    def binary(self, token: Token, operands: list[_Operand], pending: list[_Pending]) -> None:
        op, precedence = _BINARY[token.text]
        if op not in OPS:
            raise _error(
                token,
                f"the operator '{token.text}' is not supported {_at(token)}: this engine has "
                f"no {op} op",
                "unsupported_operator",
            )
        self.reduce(operands, pending, precedence, token.text == "**")
        self.advance()
        pending.append(_Pending("binary", token, op, precedence))

    def reduce(
        self, operands: list[_Operand], pending: list[_Pending], precedence: int, right: bool
    ) -> None:
        """Apply waiting operators that bind tighter than one of `precedence`."""
        while pending and pending[-1].kind in ("binary", "unary"):
            top = pending[-1]
            if top.precedence < precedence or (top.precedence == precedence and right):
                return
            self.apply(pending.pop(), operands)

    def apply(self, entry: _Pending, operands: list[_Operand]) -> None:
        if entry.kind == "unary":
            self.depth -= 1
            if entry.op == "neg":
                operands.append(self.negate(entry.token, operands.pop()))
            return

        right = operands.pop()
        left = operands.pop()
        inputs = [self.materialize(left), self.materialize(right)]
        node_id = self.add_node(entry.op, inputs, entry.token)
        operands.append(_Operand(left.token, node_id=node_id))

    def negate(self, token: Token, operand: _Operand) -> _Operand:
        if operand.node_id is not None:
            return _Operand(token, node_id=self.add_node("neg", [operand.node_id], token))
        # A minus on a literal folds into it: `x * -2` makes one const, -2.
        label = operand.label
        if label is not None:
            label = label[1:] if label.startswith("-") else "-" + label
        return _Operand(token, value=-operand.value, label=label)

    def close(self, token: Token, operands: list[_Operand], pending: list[_Pending]) -> None:
        self.reduce(operands, pending, 0, False)
        if not pending:
            raise _error(token, f"unexpected ')' {_at(token)}: no '(' is open")
        self.advance()
        frame = pending[-1]
        if frame.kind == "call":
            self.close_call(frame, operands, pending)
            return
        pending.pop()
        self.depth -= 1

    # -- calls ---------------------------------------------------------------------------

    def function(self, token: Token) -> str:
        """The op a called name stands for, or an error listing the functions."""
        name = token.text
        op = OPS.get(name)
        if op is not None and not op.is_leaf:
            return name
        if name == _LINEAR and all(need in OPS for need in _LINEAR_NEEDS):
            return name

        allowed = ", ".join(function_names())
        extra = ""
        if name in self.names or name in self.inputs:
            extra = f" ('{name}' is a variable, and a variable cannot be called)"
        raise _error(
            token,
            f"unknown function '{name}' {_at(token)}{extra}; the functions are: {allowed}",
            "unknown_function",
        )

    def argument_start(
        self, frame: _Pending, operands: list[_Operand], pending: list[_Pending]
    ) -> bool:
        """After `(` or `,` of a call: a keyword input, the closing `)`, or a value."""
        while True:
            token = self.peek()
            if token.kind == "symbol" and token.text == ")":
                self.advance()
                self.close_call(frame, operands, pending)
                return False
            if not (token.kind == "name" and self._is_assign(self.index + 1)):
                break
            self.keyword_argument(frame)
            if self._at_symbol(","):
                self.advance()
            elif not self._at_symbol(")"):
                after = self.peek()
                raise _error(
                    after,
                    f"unexpected {_show(after)} {_at(after)}: expected ',' or ')' after the "
                    f"keyword value",
                )

        if frame.attrs:
            raise _error(
                token,
                f"unexpected {_show(token)} {_at(token)}: inputs without a name come before "
                f"keyword values",
            )
        return True

    def keyword_argument(self, frame: _Pending) -> None:
        key = self.advance()
        self.advance()
        op = OPS.get(frame.op)
        known = {attr.name: attr for attr in op.attrs} if op and frame.op != _LINEAR else {}
        aliases = {alias: attr.name for attr in known.values() for alias in attr.aliases}
        name = aliases.get(key.text, key.text)
        if name not in known:
            takes = "takes the keywords " + ", ".join(known) if known else "takes no keywords"
            raise _error(
                key,
                f"{frame.op} has no keyword '{key.text}' {_at(key)}; it {takes}",
                "unknown_attribute",
            )
        if name in frame.attrs:
            others = [alias for alias, target in aliases.items() if target == name]
            also = f"; '{others[0]}' is another name for '{name}'" if others else ""
            raise _error(key, f"the keyword '{key.text}' is given twice {_at(key)}{also}")

        value_token = self.peek()
        value = self.keyword_value()
        _check_attr_kind(frame.op, known[name], value, value_token)
        # The graph keeps the attribute's own name, whichever spelling the text used.
        frame.attrs[name] = value

    def close_call(
        self, frame: _Pending, operands: list[_Operand], pending: list[_Pending]
    ) -> None:
        pending.pop()
        self.depth -= 1
        arguments = operands[frame.base :]
        del operands[frame.base :]
        if frame.op == _LINEAR and _LINEAR not in OPS:
            node_id = self.linear(frame.token, arguments)
        else:
            op = OPS[frame.op]
            _check_arity(frame.token, op.name, op.arity, len(arguments))
            inputs = [self.materialize(argument) for argument in arguments]
            node_id = self.add_node(op.name, inputs, frame.token, attrs=frame.attrs)
        operands.append(_Operand(frame.token, node_id=node_id))

    def linear(self, token: Token, arguments: list[_Operand]) -> str:
        """linear(x, W, b) = x @ transpose(W) + b, its nodes marked as one group."""
        _check_arity(token, _LINEAR, (2, 3), len(arguments))
        x, weight, *bias = [self.materialize(argument) for argument in arguments]
        group = self.fresh(_LINEAR)
        transposed = self.add_node("transpose", [weight], token, group=group)
        node_id = self.add_node("matmul", [x, transposed], token, group=group)
        made = [transposed, node_id]
        if bias:
            node_id = self.add_node("add", [node_id, bias[0]], token, group=group)
            made.append(node_id)
        self.composites[node_id] = [self.by_id[made_id] for made_id in made]
        return node_id

    # -- literals ------------------------------------------------------------------------

    def signed_number(self, what: str) -> tuple[int | float, str]:
        """A number with any leading signs, as in -2; `what` says where it stands."""
        negative = False
        signs = 0
        while self._at_symbol("-", "+"):
            sign = self.advance()
            negative ^= sign.text == "-"
            signs += 1
            self.enter(sign)
        self.depth -= signs

        token = self.peek()
        if token.kind != "number":
            raise _error(token, f"unexpected {_show(token)} {_at(token)}: {what} is a number")
        self.advance()
        number = _literal(token)
        return (-number if negative else number), ("-" if negative else "") + token.text

    def keyword_value(self) -> Any:
        """A number, True/False/None, a quoted string or a flat list of numbers."""
        token = self.peek()
        if token.kind == "string":
            self.advance()
            return token.text[1:-1]
        if token.kind == "name" and token.text in ("True", "False", "None"):
            self.advance()
            return {"True": True, "False": False, "None": None}[token.text]
        if self._at_symbol("(", "["):
            return self.number_list()
        if token.kind == "number" or self._at_symbol("-", "+"):
            return self.signed_number("a keyword value")[0]
        raise _error(
            token,
            f"unexpected {_show(token)} {_at(token)}: a keyword value is a number, True, "
            f"False, a string in quotes or a list of numbers such as (1, 2)",
        )

    def number_list(self) -> list:
        opener = self.advance()
        closer = _OPENERS[opener.text]
        self.enter(opener)
        items: list = []
        while not self._at_symbol(closer):
            items.append(self.signed_number("each element of a keyword list")[0])
            if self._at_symbol(","):
                self.advance()
            elif not self._at_symbol(closer):
                raise self.expected_closer(opener, closer)
        self.advance()
        self.depth -= 1
        return items

    def tensor_literal(self) -> _Operand:
        """Nested brackets of numbers, read with a stack of open rows (no recursion)."""
        start = self.peek()
        rows: list[list] = []
        openers: list[Token] = []
        wants_item = True
        while True:
            token = self.peek()
            if wants_item and token.kind == "symbol" and token.text == "[":
                self.advance()
                self.enter(token)
                row: list = []
                if rows:
                    rows[-1].append(row)
                rows.append(row)
                openers.append(token)
            elif token.kind == "symbol" and token.text == "]":
                end = self.advance()
                self.depth -= 1
                finished = rows.pop()
                openers.pop()
                wants_item = False
                if not rows:
                    break
            elif wants_item and (token.kind == "number" or self._at_symbol("-", "+")):
                rows[-1].append(float(self.signed_number("each element of a tensor")[0]))
                wants_item = False
            elif not wants_item and token.kind == "symbol" and token.text == ",":
                self.advance()
                wants_item = True
            else:
                raise self.bad_tensor_item(token, openers[-1], wants_item)

        value = self.literal_value(finished, start)
        source = " ".join(self.text[start.offset : end.offset + 1].split())
        return _Operand(start, value=value, label=source if len(source) <= 40 else None)

    def literal_value(self, raw: list, start: Token) -> np.ndarray:
        where = f"the tensor {_at(start)}"
        try:
            value = to_value(raw, where, self.limits)
        except LimitError as error:
            raise _limit(start, error.message, **error.details) from error
        except GraphError as error:
            raise _error(start, error.message, "bad_value") from error
        self.count_elements(int(np.size(value)), start)
        return value

    def bad_tensor_item(self, token: Token, opener: Token, wants_item: bool) -> ParseError:
        if token.kind == "name" and token.text in _KEYWORDS:
            self.check_name(token)
        if not wants_item or token.kind in _ENDS:
            return self.expected_closer(opener, "]")
        return _error(
            token,
            f"unexpected {_show(token)} {_at(token)}: a tensor literal holds only numbers, "
            f"as in [[1, 2], [3, 4]]",
        )

    def constructor(self) -> _Operand:
        """zeros, ones, eye, randn, onehot: sizes written out, turned into a literal now."""
        name = self.advance()
        opener = self.advance()
        self.enter(opener)
        sizes: list[tuple[Any, Token]] = []
        seed: Any = None
        while not self._at_symbol(")"):
            if self.peek().kind == "name" and self._is_assign(self.index + 1):
                seed = self.constructor_seed(name, seed)
            elif seed is not None:
                token = self.peek()
                raise _error(token, f"unexpected {_show(token)} {_at(token)}: sizes come first")
            else:
                size_token = self.peek()
                sizes.append((self.signed_number(f"each size in {name.text}(...)")[0], size_token))
            if self._at_symbol(","):
                self.advance()
            elif not self._at_symbol(")"):
                raise self.expected_closer(opener, ")")
        end = self.advance()
        self.depth -= 1

        value = self.construct(name, sizes, seed)
        source = " ".join(self.text[name.offset : end.offset + 1].split())
        return _Operand(name, value=value, label=source if len(source) <= 40 else None)

    def constructor_seed(self, name: Token, seed: Any) -> Any:
        key = self.advance()
        self.advance()
        if name.text != "randn" or key.text != "seed":
            raise _error(
                key,
                f"{name.text} has no keyword '{key.text}' {_at(key)}; only randn takes one (seed)",
                "unknown_attribute",
            )
        if seed is not None:
            raise _error(key, f"the keyword 'seed' is given twice {_at(key)}")
        value_token = self.peek()
        value = self.signed_number("the seed")[0]
        if isinstance(value, float) or value < 0:
            raise _error(
                value_token,
                f"the seed {_at(value_token)} must be a whole number, 0 or more",
                "bad_argument",
            )
        return value

    def construct(self, name: Token, sizes: list[tuple[Any, Token]], seed: Any) -> np.ndarray:
        numbers = [size for size, _ in sizes]
        for size, token in sizes:
            if isinstance(size, float) or size < (0 if name.text == "onehot" else 1):
                raise _error(
                    token,
                    f"{name.text} takes whole numbers {_at(token)}, as in {name.text}(2, 3); "
                    f"sizes are 1 or more",
                    "bad_argument",
                )
        shape = self.constructor_shape(name, numbers)
        count = math.prod(shape)
        if count > self.limits.max_tensor_elements:
            raise _limit(
                name,
                f"{name.text}(...) {_at(name)} would hold {count:,} elements; the limit is "
                f"{self.limits.max_tensor_elements:,} per tensor (max_tensor_elements)",
                what="tensor_elements",
                limit=self.limits.max_tensor_elements,
                actual=count,
            )
        self.count_elements(count, name)

        if name.text == "zeros":
            return np.zeros(shape)
        if name.text == "ones":
            return np.ones(shape)
        if name.text == "eye":
            return np.eye(*shape)
        if name.text == "randn":
            return np.random.default_rng(seed or 0).standard_normal(shape)
        vector = np.zeros(shape)
        vector[numbers[0]] = 1.0
        return vector

    def constructor_shape(self, name: Token, numbers: list[int]) -> tuple[int, ...]:
        if name.text == "onehot":
            if len(numbers) != 2 or not 0 <= numbers[0] < numbers[1]:
                raise _error(
                    name,
                    f"onehot takes an index and a size {_at(name)}, as in onehot(2, 3); the "
                    f"index is from 0 to size - 1",
                    "bad_argument",
                )
            return (numbers[1],)
        if name.text == "eye":
            if len(numbers) not in (1, 2):
                raise _error(
                    name, f"eye takes one or two sizes {_at(name)}, as in eye(3)", "bad_argument"
                )
            return (numbers[0], numbers[-1])
        if not 1 <= len(numbers) <= self.limits.max_tensor_dims:
            raise _error(
                name,
                f"{name.text} takes 1 to {self.limits.max_tensor_dims} sizes {_at(name)}, as in "
                f"{name.text}(2, 3)",
                "bad_argument",
            )
        return tuple(numbers)

    def count_elements(self, count: int, token: Token) -> None:
        self.elements += count
        if self.elements > self.limits.max_graph_elements:
            raise _limit(
                token,
                f"the literals reach {self.elements:,} elements {_at(token)}; the limit is "
                f"{self.limits.max_graph_elements:,} in one graph (max_graph_elements)",
                what="graph_elements",
                limit=self.limits.max_graph_elements,
                actual=self.elements,
            )

    # -- names and nodes -----------------------------------------------------------------

    def variable(self, token: Token) -> str:
        """The node a name stands for; a free name takes its value from `inputs`."""
        name = token.text
        if name in self.names:
            return self.names[name]
        if name in self.definitions:
            definition = self.definitions[name]
            if definition is self.defining:
                reason = "in its own definition; give it a value on an earlier line"
            else:
                reason = (
                    f"before it is defined {_at(definition)}; move that definition above "
                    f"its first use"
                )
            return self.defer(token, f"'{name}' is used {_at(token)} {reason}")
        if name in self.inputs:
            self.append({"id": name, "op": "input", "value": self.inputs[name]}, token)
            self.names[name] = name
            return name
        return self.defer(
            token,
            f"undefined variable '{name}' {_at(token)}: give it a value first, e.g. {name} = 1",
        )

    def defer(self, token: Token, message: str) -> str:
        # The name stands in for its node until the parse ends with this error.
        if self.deferred is None:
            self.deferred = _error(token, message, "undefined_variable")
        return token.text

    def materialize(self, operand: _Operand) -> str:
        """The node of an operand, making a const node for a literal."""
        if operand.node_id is None:
            node = {"id": self.fresh("c"), "op": "const", "value": _json_value(operand.value)}
            if operand.label is not None:
                node["label"] = operand.label
            self.append(node, operand.token)
            self.auto.add(node["id"])
            operand.node_id = node["id"]
        return operand.node_id

    def add_node(
        self,
        op: str,
        inputs: list[str],
        token: Token,
        attrs: dict | None = None,
        group: str | None = None,
    ) -> str:
        node: dict[str, Any] = {"id": self.fresh(op), "op": op, "inputs": inputs}
        if attrs:
            node["attrs"] = dict(attrs)
        if group is not None:
            node["group"] = group
        self.append(node, token)
        self.auto.add(node["id"])
        return node["id"]

    def append(self, node: dict, token: Token) -> None:
        if len(self.nodes) >= self.limits.max_nodes:
            raise _limit(
                token,
                f"the expression makes more than {self.limits.max_nodes:,} nodes "
                f"{_at(token)} (max_nodes)",
                # Counted with the node being refused, so actual is above the limit.
                what="nodes",
                limit=self.limits.max_nodes,
                actual=len(self.nodes) + 1,
            )
        self.nodes.append(node)
        self.by_id[node["id"]] = node
        self.positions[node["id"]] = (token.line, token.column)

    def fresh(self, prefix: str) -> str:
        """The next id `prefix1`, `prefix2`, ... that no name in the text uses."""
        count = self.counters.get(prefix, 0) + 1
        while f"{prefix}{count}" in self.taken:
            count += 1
        self.counters[prefix] = count
        return f"{prefix}{count}"

    # -- errors that need the parser's state ---------------------------------------------

    def unclosed(self, frame: _Pending, token: Token) -> ParseError:
        opener = frame.opener or frame.token
        return _error(
            token,
            f"expected ')' to close the '(' opened {_at(opener)}, but found the "
            f"{_show(token)} {_at(token)}",
        )

    def expected_closer(self, opener: Token, closer: str) -> ParseError:
        token = self.peek()
        return _error(
            token,
            f"unexpected {_show(token)} {_at(token)}: expected ',' or '{closer}' to close the "
            f"'{opener.text}' opened {_at(opener)}",
        )

    def unexpected_value(self, token: Token) -> ParseError:
        if token.kind in _ENDS:
            previous = self.tokens[self.index - 1] if self.index else None
            after = f" after '{previous.text}'" if previous and previous.kind == "symbol" else ""
            return _error(
                token, f"unexpected {_show(token)} {_at(token)}: a value is missing{after}"
            )
        if token.kind == "string":
            return _error(
                token,
                f"a string is not allowed {_at(token)}: quotes are only for keyword values "
                f"such as reduction='sum'",
                "forbidden_syntax",
            )
        refused = self.refused_symbol(token)
        if refused is not None:
            return refused
        return _error(
            token,
            f"unexpected {_show(token)} {_at(token)}: a value (a number, a name or '(') "
            f"should come here",
        )

    def unexpected_operator(self, token: Token, pending: list[_Pending]) -> ParseError:
        refused = self.refused_symbol(token)
        if refused is not None:
            return refused
        if token.kind == "symbol" and token.text == "[":
            return _error(
                token,
                f"indexing with '[' is not allowed {_at(token)}: the language has no "
                f"indexing or slicing",
                "forbidden_syntax",
            )
        if token.kind == "symbol" and token.text == "(":
            return self.bad_call(token)
        if token.kind == "symbol" and token.text == "=":
            return _error(
                token,
                f"unexpected '=' {_at(token)}: only a name at the start of a statement can be "
                f"defined, as in q = x + y",
            )
        if token.kind == "name" and token.text in _KEYWORDS:
            self.check_name(token)

        hint = "an operator such as + or * is missing before it"
        frames = [entry for entry in pending if entry.opener is not None]
        if frames and frames[-1].opener.line < token.line:
            hint = f"the '(' opened {_at(frames[-1].opener)} is not closed"
        return _error(token, f"unexpected {_show(token)} {_at(token)}: {hint}")

    def refused_symbol(self, token: Token) -> ParseError | None:
        if token.kind != "symbol":
            return None
        if token.text == ".":
            return _error(
                token,
                f"'.' is not allowed {_at(token)}: attribute access is not part of the language",
                "forbidden_syntax",
            )
        if token.text in _REFUSED_SYMBOLS:
            code, reason = _REFUSED_SYMBOLS[token.text]
            return _error(token, f"'{token.text}' is not allowed {_at(token)}: {reason}", code)
        return None

    def bad_call(self, token: Token) -> ParseError:
        previous = self.tokens[self.index - 1]
        if previous.kind == "number":
            return _error(
                token,
                f"unexpected '(' after the number {previous.text} {_at(token)}: write "
                f"{previous.text} * (...) to multiply",
            )
        return _error(
            token,
            f"calling the result of an expression is not allowed {_at(token)}: only a "
            f"function name such as exp can be called",
            "forbidden_syntax",
        )


def _check_arity(token: Token, name: str, arity: tuple[int, int], count: int) -> None:
    low, high = arity
    if low <= count <= high:
        return
    wanted = str(high) if low == high else f"{low} to {high}"
    plural = "" if wanted == "1" else "s"
    raise _error(
        token,
        f"{name} takes {wanted} input{plural} but was given {count} {_at(token)}",
        "wrong_arity",
    )


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_ATTR_KINDS = {
    "int": (_is_whole, "a whole number"),
    "float": (_is_number, "a number"),
    "bool": (lambda value: isinstance(value, bool), "True or False"),
    "str": (lambda value: isinstance(value, str), "a string in quotes"),
    "ints": (
        lambda value: (
            value is None
            or _is_whole(value)
            or (isinstance(value, list) and all(_is_whole(item) for item in value))
        ),
        "a whole number or a list of whole numbers such as (1, 2)",
    ),
    "axis": (
        lambda value: (
            value is None
            or _is_whole(value)
            or (isinstance(value, list) and all(_is_whole(item) for item in value))
        ),
        "an axis number, a list of axes such as (0, 1), or None",
    ),
}


def _check_attr_kind(op: str, attr: Any, value: Any, token: Token) -> None:
    test, wanted = _ATTR_KINDS.get(attr.kind, (lambda value: True, ""))
    if not test(value):
        raise _error(
            token,
            f"the keyword '{attr.name}' of {op} is {wanted} {_at(token)}",
            "bad_attribute",
        )


_INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "matmul": "@"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def graph_to_expression(graph: dict) -> str | None:
    """Text that parses back into the graph, one line per node; None if it cannot be written.

    Labels, groups and positions are not kept; consts are written inline as literals.
    """
    lines: list[str] = []
    written: set[str] = set()
    consts: dict[str, str] = {}
    for node in graph.get("nodes", []):
        node_id, op = node.get("id"), node.get("op")
        if not isinstance(node_id, str) or not _plain_name(node_id):
            return None
        if op in ("const", "input"):
            literal = _literal_text(node.get("value"))
            if literal is None:
                return None
            if op == "const":
                consts[node_id] = f"({literal})" if literal.startswith("-") else literal
            else:
                lines.append(f"{node_id} = {literal}")
                written.add(node_id)
            continue

        line = _node_line(node, written, consts)
        if line is None:
            return None
        lines.append(line)
        written.add(node_id)
    return _with_output(lines, written, consts, graph.get("output"))


def _plain_name(name: str) -> bool:
    return bool(_NAME.fullmatch(name)) and name not in _KEYWORDS and not name.startswith("__")


def _literal_text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return repr(value) if math.isfinite(value) else None
    if not isinstance(value, list):
        return None
    level: list = [value]
    while level and all(isinstance(item, list) for item in level):
        level = [x for item in level for x in item]
    finite = all(_is_number(x) and math.isfinite(x) for x in level)
    return repr(value) if finite else None


def _node_line(node: dict, written: set[str], consts: dict[str, str]) -> str | None:
    arguments = []
    for input_id in node.get("inputs", []):
        if input_id in consts:
            arguments.append(consts[input_id])
        elif input_id in written:
            arguments.append(input_id)
        else:
            return None
    op, attrs = node["op"], node.get("attrs") or {}
    if op in _INFIX and not attrs and len(arguments) == 2:
        return f"{node['id']} = {arguments[0]} {_INFIX[op]} {arguments[1]}"
    for key, value in attrs.items():
        shown = _attr_text(value)
        if shown is None or not _plain_name(key):
            return None
        arguments.append(f"{key}={shown}")
    return f"{node['id']} = {op}({', '.join(arguments)})"


def _with_output(
    lines: list[str], written: set[str], consts: dict[str, str], output: Any
) -> str | None:
    if output in consts:
        lines.append(consts[output])
    elif output not in written:
        return None
    elif not lines[-1].startswith(f"{output} = "):
        lines.append(output)
    return "\n".join(lines)


def _attr_text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, str):
        return repr(value) if "'" not in value and '"' not in value else None
    return _literal_text(value)
