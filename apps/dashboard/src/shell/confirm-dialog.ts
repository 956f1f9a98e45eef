import { h } from "./element.js";

/**
 * confirmAction asks the user to confirm a write in a modal dialog and resolves to their answer. The
 * dialog shows exactly what will be sent (`details`), so a put or delete is never a single misclick.
 */
export function confirmAction(title: string, details: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (answer: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    const dialog = h(
      "dialog",
      { class: "confirm", "data-testid": "confirm-dialog" },
      h("h3", {}, title),
      h("pre", { class: "confirm-details" }, details),
      h(
        "div",
        { class: "buttons" },
        h(
          "button",
          { type: "button", "data-testid": "confirm-cancel", onclick: () => finish(false) },
          "Cancel",
        ),
        h(
          "button",
          { type: "button", class: "danger", "data-testid": "confirm-ok", onclick: () => finish(true) },
          confirmLabel,
        ),
      ),
    );
    dialog.addEventListener("cancel", () => finish(false));
    document.body.appendChild(dialog);
    dialog.showModal();
  });
}
