// Small edits of the expression text, so the box keeps describing the graph on screen.

const NUMBER = String.raw`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?`;

function escapeName(name) {
  return name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Replace the number in the definition `name = <number>` by `value`.
 * Statements may share a line, separated by ";". Returns null when no such line exists.
 * @param {string} text
 * @param {string} name
 * @param {number} value
 * @returns {string|null}
 */
export function rewriteDefinition(text, name, value) {
  const definition = new RegExp(`^(\\s*${escapeName(name)}\\s*=\\s*)(${NUMBER})(\\s*)$`);
  const lines = text.split("\n");
  for (let row = 0; row < lines.length; row += 1) {
    const statements = lines[row].split(";");
    const hit = statements.findIndex((statement) => definition.test(statement));
    if (hit === -1) continue;
    statements[hit] = statements[hit].replace(definition, `$1${numberText(value)}$3`);
    lines[row] = statements.join(";");
    return lines.join("\n");
  }
  return null;
}

/** A number as the expression language writes it. */
export function numberText(value) {
  return Object.is(value, -0) ? "0" : String(value);
}

/**
 * Parse what a student typed as a new value: a finite number, written as usual.
 * @returns {number|null}
 */
export function parseNumber(text) {
  const cleaned = text.trim().replace(/\u2212/g, "-");
  if (!new RegExp(`^${NUMBER}$`).test(cleaned)) return null;
  const number = Number(cleaned);
  return Number.isFinite(number) ? number : null;
}
