// "Predict before reveal": read a student's guess the way people write numbers (a dot or a
// comma as the decimal mark, a fraction such as -1/4) and judge it with a tolerance.

const DECIMAL = String.raw`[-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?`;
const NUMBER = new RegExp(`^${DECIMAL}$`);
const FRACTION = new RegExp(`^(${DECIMAL})\\s*/\\s*(${DECIMAL})$`);

/** A guess is right within this share of the true value, or this much absolutely. */
export const TOLERANCE = { relative: 0.005, absolute: 0.001 };

function decimal(text) {
  return Number(text.replace(",", "."));
}

/**
 * The number a student typed: "-0.25", "-0,25", "-1/4", "−.25"; null when it is not one.
 * @param {string} text
 * @returns {number|null}
 */
export function parseGuess(text) {
  const cleaned = text.trim().replace(/\u2212/g, "-").replace(/\s+/g, " ");
  let number = null;
  if (NUMBER.test(cleaned)) {
    number = decimal(cleaned);
  } else {
    const fraction = FRACTION.exec(cleaned);
    if (fraction) number = decimal(fraction[1]) / decimal(fraction[2]);
  }
  return number !== null && Number.isFinite(number) ? number : null;
}

/** True when `guess` is close enough to `truth` (both numbers). */
export function isClose(guess, truth) {
  const allowed = Math.max(TOLERANCE.absolute, TOLERANCE.relative * Math.abs(truth));
  return Math.abs(guess - truth) <= allowed;
}
