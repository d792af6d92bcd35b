// The kernel library of the CNN lab. Gaussian and Sobel are the course's (chapter 5: G is
// 1/16·[1 2 1; 2 4 2; 1 2 1], S_x has +1 on the left and −1 on the right, S_y = S_xᵀ); the
// others are the usual image-processing examples.

/**
 * @typedef {Object} Kernel
 * @property {string} name   key, e.g. "sobel_x"
 * @property {string} title  what the page shows, e.g. "Sobel x"
 * @property {string} tex    the kernel as LaTeX, as the course writes it
 * @property {number[][]} value  K×K numbers
 */

/** @type {Kernel[]} */
export const KERNELS = [
  {
    name: "identity",
    title: "Identity",
    tex: String.raw`\begin{bmatrix}0&0&0\\0&1&0\\0&0&0\end{bmatrix}`,
    value: [
      [0, 0, 0],
      [0, 1, 0],
      [0, 0, 0],
    ],
  },
  {
    name: "box",
    title: "Box blur",
    tex: String.raw`\tfrac{1}{9}\begin{bmatrix}1&1&1\\1&1&1\\1&1&1\end{bmatrix}`,
    value: scaled(
      [
        [1, 1, 1],
        [1, 1, 1],
        [1, 1, 1],
      ],
      9,
    ),
  },
  {
    name: "gaussian",
    title: "Gaussian blur",
    tex: String.raw`\tfrac{1}{16}\begin{bmatrix}1&2&1\\2&4&2\\1&2&1\end{bmatrix}`,
    value: scaled(
      [
        [1, 2, 1],
        [2, 4, 2],
        [1, 2, 1],
      ],
      16,
    ),
  },
  {
    name: "sobel_x",
    title: "Sobel x",
    tex: String.raw`S_x = \begin{bmatrix}+1&0&-1\\+2&0&-2\\+1&0&-1\end{bmatrix}`,
    value: [
      [1, 0, -1],
      [2, 0, -2],
      [1, 0, -1],
    ],
  },
  {
    name: "sobel_y",
    title: "Sobel y",
    tex: String.raw`S_y = S_x^\top = \begin{bmatrix}+1&+2&+1\\0&0&0\\-1&-2&-1\end{bmatrix}`,
    value: [
      [1, 2, 1],
      [0, 0, 0],
      [-1, -2, -1],
    ],
  },
  {
    name: "sharpen",
    title: "Sharpen",
    tex: String.raw`\begin{bmatrix}0&-1&0\\-1&5&-1\\0&-1&0\end{bmatrix}`,
    value: [
      [0, -1, 0],
      [-1, 5, -1],
      [0, -1, 0],
    ],
  },
  {
    name: "laplacian",
    title: "Laplacian",
    tex: String.raw`\begin{bmatrix}0&1&0\\1&-4&1\\0&1&0\end{bmatrix}`,
    value: [
      [0, 1, 0],
      [1, -4, 1],
      [0, 1, 0],
    ],
  },
  {
    name: "emboss",
    title: "Emboss",
    tex: String.raw`\begin{bmatrix}-2&-1&0\\-1&1&1\\0&1&2\end{bmatrix}`,
    value: [
      [-2, -1, 0],
      [-1, 1, 1],
      [0, 1, 2],
    ],
  },
  {
    name: "vertical_lines",
    title: "Vertical lines",
    tex: String.raw`\begin{bmatrix}-1&2&-1\\-1&2&-1\\-1&2&-1\end{bmatrix}`,
    value: [
      [-1, 2, -1],
      [-1, 2, -1],
      [-1, 2, -1],
    ],
  },
  {
    name: "horizontal_lines",
    title: "Horizontal lines",
    tex: String.raw`\begin{bmatrix}-1&-1&-1\\2&2&2\\-1&-1&-1\end{bmatrix}`,
    value: [
      [-1, -1, -1],
      [2, 2, 2],
      [-1, -1, -1],
    ],
  },
];

/**
 * The default bank: six kernels, as in the course's figure of a layer with 6 filters, taken
 * from the transformations the course names (blur, Sobel, vertical and horizontal lines).
 */
export const BANK_DEFAULT = [
  "gaussian",
  "sobel_x",
  "sobel_y",
  "vertical_lines",
  "horizontal_lines",
  "laplacian",
];

/** The kernel called `name`, or undefined. */
export function kernelNamed(name) {
  return KERNELS.find((kernel) => kernel.name === name);
}

/** A K×K kernel of zeros with `inner` centred in it (a 3×3 preset inside a 5×5 grid). */
export function embedded(inner, size) {
  const offset = Math.floor((size - inner.length) / 2);
  return Array.from({ length: size }, (_, row) =>
    Array.from({ length: size }, (_, col) => inner[row - offset]?.[col - offset] ?? 0),
  );
}

/** A K×K box (mean) kernel: every weight 1/K². */
export function boxKernel(size) {
  return Array.from({ length: size }, () => Array(size).fill(1 / (size * size)));
}

function scaled(matrix, divisor) {
  return matrix.map((row) => row.map((number) => number / divisor));
}
