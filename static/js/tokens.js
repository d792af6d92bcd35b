// The edit tokens of the graphs this browser saved, kept in localStorage by graph id, so the
// teacher can overwrite them later. A token is a password: it is never put into a page that a
// student opens, only sent in the Authorization header of a save.

const KEY = "gradplay.editTokens";

function readAll() {
  try {
    const stored = JSON.parse(window.localStorage.getItem(KEY) || "{}");
    return stored && typeof stored === "object" ? stored : {};
  } catch {
    // No storage (a private window) or a damaged entry: behave as if nothing was saved.
    return {};
  }
}

function writeAll(tokens) {
  try {
    window.localStorage.setItem(KEY, JSON.stringify(tokens));
    return true;
  } catch {
    return false;
  }
}

/** The token this browser holds for a graph, or null. */
export function tokenFor(id) {
  return (id && readAll()[id]) || null;
}

/** Remember a graph's token; false when the browser refuses to store it. */
export function rememberToken(id, token) {
  return writeAll({ ...readAll(), [id]: token });
}

export function forgetToken(id) {
  const tokens = readAll();
  delete tokens[id];
  writeAll(tokens);
}
