/**
 * `completion bash|zsh|fish`: shell completion scripts. They ask the binary itself (`etcdctl-ts __complete
 * -- <words>`) for the candidates, so completion always matches the installed version's commands and flags.
 */
import type { CommandSpec } from "../command.js";
import { GLOBAL_FLAGS } from "../global-options.js";
import { line } from "../output.js";

const BASH = `# bash completion for etcdctl-ts
# load with:  source <(etcdctl-ts completion bash)
_etcdctl_ts() {
  local cur words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  words=("\${COMP_WORDS[@]:1:COMP_CWORD}")
  COMPREPLY=( $(compgen -W "$(etcdctl-ts __complete -- "\${words[@]}" 2>/dev/null)" -- "$cur") )
}
complete -o default -F _etcdctl_ts etcdctl-ts`;

const ZSH = `#compdef etcdctl-ts
# zsh completion for etcdctl-ts
# load with:  source <(etcdctl-ts completion zsh)   or save as _etcdctl-ts in a directory on $fpath
_etcdctl_ts() {
  local -a candidates
  candidates=("\${(@f)$(etcdctl-ts __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -a candidates
}
compdef _etcdctl_ts etcdctl-ts`;

const FISH = `# fish completion for etcdctl-ts
# load with:  etcdctl-ts completion fish | source
complete -c etcdctl-ts -f -a '(etcdctl-ts __complete -- (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'`;

function script(name: string, short: string, text: string, examples: string[]): CommandSpec {
  return {
    name,
    use: `completion ${name}`,
    short,
    noFlagsInUse: true,
    examples,
    async run(ctx) {
      line(ctx.session, text);
    },
  };
}

/** completion is the `completion` command group. */
export const completion: CommandSpec = {
  name: "completion",
  use: "completion",
  short: "Generate the autocompletion script for the specified shell",
  examples: ["source <(etcdctl-ts completion bash)", "source <(etcdctl-ts completion zsh)"],
  long: `Generate the autocompletion script for etcdctl-ts for the specified shell.
See each sub-command's help for details on how to use the generated script.`,
  subcommands: [
    script("bash", "Generate the autocompletion script for bash", BASH, [
      "source <(etcdctl-ts completion bash)                    # this shell",
      "etcdctl-ts completion bash > /etc/bash_completion.d/etcdctl-ts   # every new shell",
    ]),
    script("fish", "Generate the autocompletion script for fish", FISH, [
      "etcdctl-ts completion fish | source                     # this shell",
      "etcdctl-ts completion fish > ~/.config/fish/completions/etcdctl-ts.fish",
    ]),
    script("zsh", "Generate the autocompletion script for zsh", ZSH, [
      "source <(etcdctl-ts completion zsh)                     # this shell",
      "etcdctl-ts completion zsh > ~/.zfunc/_etcdctl-ts        # every new shell (~/.zfunc on $fpath)",
    ]),
  ],
};

/** completeWords lists the candidates for the last of `words` (the word being completed). */
export function completeWords(root: CommandSpec, words: string[]): string[] {
  const current = words[words.length - 1] ?? "";
  let cmd = root;
  const inherited = [...GLOBAL_FLAGS];
  for (const w of words.slice(0, -1)) {
    const sub = cmd.subcommands?.find((c) => c.name === w);
    if (sub !== undefined) {
      inherited.push(...(cmd.persistentFlags ?? []));
      cmd = sub;
    }
  }
  if (current.startsWith("-")) {
    return [...inherited, ...(cmd.flags ?? []), ...(cmd.persistentFlags ?? [])]
      .filter((f) => f.hidden !== true)
      .map((f) => `--${f.name}`)
      .filter((f) => f.startsWith(current))
      .sort();
  }
  return (cmd.subcommands ?? [])
    .filter((c) => c.hidden !== true)
    .map((c) => c.name)
    .filter((n) => n.startsWith(current))
    .sort();
}

/** completeCommand is the hidden `__complete` command the scripts call. */
export function completeCommand(root: () => CommandSpec): CommandSpec {
  return {
    name: "__complete",
    use: "__complete -- <words>",
    short: "Lists completion candidates (used by the completion scripts)",
    hidden: true,
    async run(ctx) {
      for (const c of completeWords(root(), ctx.args)) line(ctx.session, c);
    },
  };
}
