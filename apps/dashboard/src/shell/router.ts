import { h, replaceChildren } from "./element.js";
import type { View } from "./view.js";

/** Route is one tab of the dashboard: its hash path, its label and its view. */
export interface Route {
  path: string;
  label: string;
  view: View;
}

/**
 * Router shows the view of the current location hash (`#/cluster`, `#/keys?prefix=/a/`, ...), with a
 * tab bar. Hash routing keeps the bundle servable as static files under any base path (/ui/).
 */
export class Router {
  #current: View | undefined;
  #currentHash: string | undefined;

  constructor(
    private readonly routes: readonly Route[],
    private readonly nav: HTMLElement,
    private readonly outlet: HTMLElement,
  ) {}

  /** start renders the current route and follows hash changes. */
  start(): void {
    window.addEventListener("hashchange", () => this.#show());
    this.#show();
  }

  /** refresh mounts the current view again (e.g. after signing in, so it reloads with the new token). */
  refresh(): void {
    this.#current?.unmount();
    this.#current = undefined;
    this.#show();
  }

  #show(): void {
    const hash = location.hash.replace(/^#/, "");
    const [path = "", query = ""] = hash.split("?", 2);
    const route = this.routes.find((r) => r.path === path) ?? this.routes[0];
    if (route === undefined) return;
    // Views keep their own state in the hash with history.replaceState, which fires no hashchange; so a
    // hashchange always means the user navigated (a tab, a link, an edited URL), and the view is mounted anew.
    if (location.hash === this.#currentHash && this.#current !== undefined) return;
    this.#current?.unmount();
    this.#current = route.view;
    this.#currentHash = location.hash;
    replaceChildren(
      this.nav,
      this.routes.map((r) =>
        h(
          "a",
          {
            href: `#${r.path}`,
            class: r === route ? "tab active" : "tab",
            "data-testid": `tab-${r.path.slice(1)}`,
          },
          r.label,
        ),
      ),
    );
    route.view.mount(this.outlet, new URLSearchParams(query));
  }
}
