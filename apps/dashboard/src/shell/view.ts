/**
 * View is one page of the dashboard. The router mounts one view at a time: `mount` builds its DOM in
 * `container` and starts its timers and streams; `unmount` stops them all (constructors start nothing).
 */
export interface View {
  mount(container: HTMLElement, params: URLSearchParams): void;
  unmount(): void;
}
