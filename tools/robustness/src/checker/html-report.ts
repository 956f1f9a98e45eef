import { describeEtcdOperation, etcdModel } from "../model/etcd-model.js";
import type { EtcdOperation, LinearizabilityReport, PartitionReport } from "./etcd-linearizability.js";

/** ReportOptions add context to the HTML report. */
export interface ReportOptions {
  readonly title?: string;
  /** notes are extra lines shown on top (seed, fault, watch violations, ...). */
  readonly notes?: readonly string[];
  /** all renders every partition, not only the failing ones. */
  readonly all?: boolean;
}

const escapeHtml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/**
 * renderHtmlReport draws a checked history as a self-contained HTML page: for every failing partition a
 * timeline with one row per client (each operation a bar from call to return; green when it is part of
 * the longest linearization the search found, red when not, hatched when its answer was lost), the
 * longest linearization with the model state after each step, and the global revision violations.
 */
export function renderHtmlReport(report: LinearizabilityReport, options: ReportOptions = {}): string {
  const title = options.title ?? "etcd-ts robustness: linearizability report";
  const shown = report.partitions.filter((p) => options.all === true || p.result.verdict !== "ok");
  const sections = shown.map((p) => renderPartition(report.operations, p)).join("\n");
  const notes = (options.notes ?? []).map((n) => `<li>${escapeHtml(n)}</li>`).join("");
  const revisions = report.revisionViolations.map((v) => `<li>${escapeHtml(v)}</li>`).join("");
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 2em; }
.verdict-ok { color: #1a7f37; } .verdict-illegal { color: #cf222e; } .verdict-unknown { color: #9a6700; }
table { border-collapse: collapse; font-size: 0.85em; } td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }
svg text { font-size: 10px; font-family: monospace; }
.legend span { display: inline-block; padding: 0 6px; margin-right: 8px; color: #fff; }
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p>Verdict: <b class="verdict-${report.verdict}">${report.verdict}</b> &middot; ${report.operations.length} operations checked
(${report.dropped} failed reads and lease grants dropped) in ${report.partitions.length} partitions.</p>
${notes === "" ? "" : `<ul>${notes}</ul>`}
${revisions === "" ? "" : `<h2>Revision order violations</h2><ul>${revisions}</ul>`}
<p class="legend"><span style="background:#2da44e">linearized</span><span style="background:#cf222e">not linearizable here</span><span style="background:#8c959f">answer lost (open)</span></p>
${sections === "" ? "<p>No failing partition.</p>" : sections}
</body></html>
`;
}

function renderPartition(all: readonly EtcdOperation[], part: PartitionReport): string {
  const ops = part.operations.map((i) => all[i] as EtcdOperation);
  const order = new Map<number, number>(part.result.longest.map((local, step) => [local, step]));
  const finite = ops.filter((o) => Number.isFinite(o.return));
  const t0 = Math.min(...ops.map((o) => o.call));
  const t1 = Math.max(...finite.map((o) => o.return), ...ops.map((o) => o.call)) + 1;
  const clients = [...new Set(ops.map((o) => o.clientId))].sort((a, b) => a - b);
  const width = 1400;
  const rowHeight = 22;
  const x = (t: number) => 60 + ((Math.min(t, t1) - t0) / Math.max(1, t1 - t0)) * (width - 80);
  const bars = ops
    .map((o, local) => {
      const row = clients.indexOf(o.clientId);
      const step = order.get(local);
      const open = !Number.isFinite(o.return);
      const color = open && step === undefined ? "#8c959f" : step === undefined ? "#cf222e" : "#2da44e";
      const x0 = x(o.call);
      const x1 = Math.max(x0 + 3, x(o.return));
      const label = `#${part.operations[local]}${step === undefined ? "" : ` (${step + 1})`} ${describeEtcdOperation(o.input, o.output)}`;
      return `<g><title>${escapeHtml(label)}</title><rect x="${x0.toFixed(1)}" y="${row * rowHeight + 4}" width="${(x1 - x0).toFixed(1)}" height="${rowHeight - 8}" fill="${color}" opacity="${open ? 0.5 : 0.85}"/>${
        step === undefined
          ? ""
          : `<text x="${(x0 + 2).toFixed(1)}" y="${row * rowHeight + 15}" fill="#fff">${step + 1}</text>`
      }</g>`;
    })
    .join("");
  const rows = clients.map((c, row) => `<text x="4" y="${row * rowHeight + 15}">client ${c}</text>`).join("");
  const model = etcdModel(new Set(part.keys));
  let state = model.init();
  const steps = part.result.longest
    .map((local, step) => {
      const o = ops[local] as EtcdOperation;
      const next = model.step(state, o.input, o.output);
      if (next !== undefined) state = next;
      return `<tr><td>${step + 1}</td><td>#${part.operations[local]}</td><td>c${o.clientId}</td><td>${escapeHtml(describeEtcdOperation(o.input, o.output))}</td><td>${escapeHtml(model.describeState(state))}</td></tr>`;
    })
    .join("");
  const left = ops
    .map((o, local) => ({ o, local }))
    .filter(({ local }) => !order.has(local))
    .filter(({ o }) => Number.isFinite(o.return))
    .map(
      ({ o, local }) =>
        `<li>#${part.operations[local]} client ${o.clientId} [${o.call.toFixed(1)}, ${o.return.toFixed(1)}] ${escapeHtml(describeEtcdOperation(o.input, o.output))}</li>`,
    )
    .join("");
  return `<h2>Keys ${escapeHtml(part.keys.join(", "))}: <span class="verdict-${part.result.verdict}">${part.result.verdict}</span></h2>
<p>${ops.length} operations, ${part.result.explored} search states. Longest linearization: ${part.result.longest.length} operations.</p>
<svg width="${width}" height="${clients.length * rowHeight + 10}" xmlns="http://www.w3.org/2000/svg">${rows}${bars}</svg>
<h3>Answered operations outside the longest linearization</h3><ul>${left}</ul>
<details><summary>Longest linearization, with the model state after each step</summary>
<table><tr><th>step</th><th>op</th><th>client</th><th>operation</th><th>state after</th></tr>${steps}</table></details>`;
}
