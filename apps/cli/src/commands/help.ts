/**
 * `help [command]`: cobra's help command, which etcdctl lists in its root help. It prints the help of the
 * deepest command the words name; a first word that names no command is an "Unknown help topic" (stderr)
 * followed by the root usage, exit 0.
 */
import { type CommandSpec, helpText } from "../command.js";

/** helpCommand is the `help` command; `root` is the tree it explains (a thunk, as the tree contains it). */
export function helpCommand(root: () => CommandSpec): CommandSpec {
  return {
    name: "help",
    use: "help [command]",
    short: "Help about any command",
    long: `Help provides help for any command in the application.
Simply type etcdctl help [path to command] for full details.`,
    examples: ["etcdctl-ts help get", "etcdctl-ts help lease grant"],
    async run(ctx) {
      const path = [root()];
      for (const word of ctx.args) {
        const current = path[path.length - 1] as CommandSpec;
        const sub = current.subcommands?.find((c) => c.name === word && c.hidden !== true);
        if (sub === undefined) break;
        path.push(sub);
      }
      const io = ctx.session.io;
      if (path.length === 1 && ctx.args.length > 0) {
        io.stderr(`Unknown help topic [${ctx.args.map((a) => `\`${a}\``).join(" ")}]\n`);
        io.stdout(helpText(path, false));
        return;
      }
      io.stdout(helpText(path, true));
    },
  };
}
