// A tiny Markdown renderer for a teacher's description, safe by construction: it builds DOM
// nodes and sets text with textContent, never parsing HTML, so "<script>" in a description is
// just text. It knows paragraphs, "- " and "1. " lists, **bold**, *italic*, `code` and links to
// http(s) addresses; everything else shows as written.

import { h } from "./dom.js";

const INLINE = [
  { kind: "code", pattern: /`([^`\n]+)`/ },
  { kind: "link", pattern: /\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/ },
  { kind: "strong", pattern: /\*\*([^\n]+?)\*\*/ },
  { kind: "em", pattern: /\*([^*\n]+)\*/ },
];
const BULLET = /^\s*[-*]\s+(.*)$/;
const NUMBERED = /^\s*\d+[.)]\s+(.*)$/;

/**
 * The description as block elements (paragraphs and lists).
 * @param {string} text
 * @returns {HTMLElement[]}
 */
export function renderMarkdown(text) {
  const blocks = [];
  let paragraph = [];
  let list = null;
  const flushParagraph = () => {
    if (paragraph.length) blocks.push(h("p", {}, inline(paragraph.join(" "))));
    paragraph = [];
  };
  for (const line of String(text || "").split(/\r?\n/)) {
    const bullet = BULLET.exec(line);
    const numbered = bullet ? null : NUMBERED.exec(line);
    if (bullet || numbered) {
      flushParagraph();
      const tag = bullet ? "ul" : "ol";
      if (!list || list.tagName.toLowerCase() !== tag) {
        list = h(tag);
        blocks.push(list);
      }
      list.append(h("li", {}, inline((bullet || numbered)[1])));
      continue;
    }
    list = null;
    if (line.trim() === "") flushParagraph();
    else paragraph.push(line.trim());
  }
  flushParagraph();
  return blocks;
}

/** Text with inline marks, as text nodes and elements. */
function inline(text) {
  const parts = [];
  let rest = text;
  while (rest) {
    const hit = earliest(rest);
    if (!hit) {
      parts.push(rest);
      break;
    }
    if (hit.index > 0) parts.push(rest.slice(0, hit.index));
    parts.push(element(hit));
    rest = rest.slice(hit.index + hit.match[0].length);
  }
  return parts;
}

function earliest(text) {
  let best = null;
  for (const { kind, pattern } of INLINE) {
    const match = pattern.exec(text);
    if (match && (!best || match.index < best.index)) best = { kind, match, index: match.index };
  }
  return best;
}

function element({ kind, match }) {
  if (kind === "code") return h("code", { text: match[1] });
  if (kind === "strong") return h("strong", {}, inline(match[1]));
  if (kind === "em") return h("em", {}, inline(match[1]));
  return link(match[1], match[2]);
}

function link(text, address) {
  let url;
  try {
    url = new URL(address);
  } catch {
    return `[${text}](${address})`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `[${text}](${address})`;
  return h("a", { href: url.href, rel: "noopener noreferrer nofollow", target: "_blank" }, [
    ...inline(text),
  ]);
}
