/** Attributes for {@link h}: DOM attributes (strings), `class`, `data-*`, and `on*` event listeners. */
export type Attributes = Record<string, string | number | boolean | undefined | ((ev: Event) => void)>;

/** Child is what {@link h} accepts as content: nodes, text, or nothing. */
export type Child = Node | string | number | null | undefined | false | readonly Child[];

/**
 * h builds a DOM element: `h("button", { class: "primary", onclick: go }, "Go")`. Attributes whose value is
 * `undefined` or `false` are left out; `true` sets an empty attribute. Text is always inserted as text, never
 * as HTML, so keys and values from etcd can't inject markup.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") {
      el.addEventListener(name.replace(/^on/, ""), value);
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

/** svg builds an SVG element with attributes (no listeners). */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number | undefined> = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined) el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function append(parent: Node, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else if (c instanceof Node) parent.appendChild(c);
    else parent.appendChild(document.createTextNode(String(c)));
  }
}

/** replaceChildren swaps the whole content of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}
