// Shapes of the data the page works with, for JSDoc only (this module exports nothing useful).

/**
 * A number as the API sends it: finite numbers as numbers, non-finite ones as strings.
 * Tensors are nested lists of these.
 * @typedef {number | "nan" | "inf" | "-inf" | Array<any>} ApiNumber
 */

/**
 * @typedef {Object} ApiNode
 * @property {string} op
 * @property {string[]} inputs
 * @property {string|null} label
 * @property {string} symbol
 * @property {string|null} group
 * @property {number[]} shape
 * @property {ApiNumber} value
 * @property {ApiNumber|null} grad
 * @property {string|null} warning
 * @property {string|null} formula  LaTeX, rendered with KaTeX
 */

/**
 * @typedef {Object} ApiEdge
 * @property {string} source
 * @property {string} target
 * @property {number} input_index
 * @property {ApiNumber|null} upstream
 * @property {ApiNumber|null} local
 * @property {ApiNumber|null} downstream
 * @property {string|null} local_formula  LaTeX
 * @property {string|null} local_omitted
 */

/**
 * @typedef {Object} ApiGroup
 * @property {string[]} nodes
 * @property {string} output
 * @property {string} symbol
 * @property {Array<{source: string, target: string, upstream: ApiNumber|null,
 *   local: ApiNumber|null, downstream: ApiNumber|null}>} edges
 */

/**
 * The body of a 200 answer of POST /api/evaluate.
 * @typedef {Object} Evaluation
 * @property {string} output
 * @property {Object} graph  the evaluated graph in graph-JSON form
 * @property {string[]} forward_order
 * @property {string[]} backward_order
 * @property {Object<string, ApiNode>} nodes
 * @property {ApiEdge[]} edges
 * @property {Array<{node: string, code: string, message: string}>} warnings
 * @property {string|null} first_nonfinite
 * @property {string[]} notes
 * @property {Object<string, ApiGroup>} [groups]
 * @property {boolean} [draft]   drawn by the page from an incomplete graph, not by the API
 * @property {string} [problem]  why a draft could not be evaluated
 */

/**
 * What the page evaluates: the expression text, and the graph JSON when the graph (not the
 * text) is authoritative, as for a preset whose nodes carry groups and labels.
 * @typedef {Object} Source
 * @property {string} expression
 * @property {Object|null} graph
 * @property {string|null} presetName
 * @property {string[]} [hidden]  node ids whose numbers students predict before they see them
 * @property {string[]} [locked]  input ids students cannot change
 */

/**
 * A node as drawn: an API node, a collapsed group box, or the output's end label.
 * @typedef {Object} DisplayNode
 * @property {string} id
 * @property {"input"|"const"|"op"|"group"|"terminal"} kind
 * @property {string} name      what a student calls it (label or id)
 * @property {string|null} [label]  the API's label, if any
 * @property {string} op        op name (the group's name for a box)
 * @property {string} symbol    what the circle or box shows
 * @property {ApiNumber|null} value
 * @property {ApiNumber|null} grad
 * @property {number[]} shape
 * @property {string|null} warning
 * @property {string|null} formula
 * @property {{x: number, y: number}|null} position  where the teacher placed it, if anywhere
 * @property {Array<string|null>} inputs  its inputs' ids (null: a slot not connected yet)
 * @property {string[]} members  API node ids inside a group box
 */

/**
 * An edge as drawn; `value` is the source's value, the gradient is `downstream`.
 * @typedef {Object} DisplayEdge
 * @property {string} key
 * @property {string} source
 * @property {string} target
 * @property {number} inputIndex
 * @property {ApiNumber|null} value
 * @property {number[]} shape        the source's shape (of value and downstream)
 * @property {number[]} targetShape  the target's shape (of upstream)
 * @property {ApiNumber|null} upstream
 * @property {ApiNumber|null} local
 * @property {ApiNumber|null} downstream
 * @property {string|null} localFormula
 * @property {string|null} localOmitted
 */

/**
 * @typedef {Object} Step
 * @property {"forward"|"backward"} phase
 * @property {string} node  a DisplayNode id
 */

export {};
