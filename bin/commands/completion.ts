/**
 * `eucanetd completion bash|zsh`: a shell completion script made from the registered
 * commands, their options and the topology kinds (`source <(eucanetd completion bash)`;
 * zsh loads the same function through bashcompinit).
 */
import type { Command } from 'commander';
import { KINDS } from '../../src/store/index.js';

interface Entry {
  readonly path: string;
  readonly words: string[];
}

function walk(cmd: Command, path: string[], out: Entry[], valued: Set<string>): void {
  const words = [
    ...cmd.commands.map((c) => c.name()),
    ...cmd.options.flatMap((o) => [o.long, o.short].filter((x): x is string => x !== undefined)),
  ];
  for (const o of cmd.options) {
    if (o.required || o.optional) {
      if (o.long) valued.add(o.long);
      if (o.short) valued.add(o.short);
    }
  }
  const p = path.join(' ');
  if (p === 'topology list' || p === 'topology show') words.push(...KINDS);
  if (p === 'completion') words.push('bash', 'zsh');
  out.push({ path: p, words });
  for (const c of cmd.commands) walk(c, [...path, c.name()], out, valued);
}

/** The bash completion function for the program. */
export function bashCompletion(program: Command): string {
  const entries: Entry[] = [];
  const valued = new Set<string>();
  walk(program, [], entries, valued);
  const cases = entries
    .map((e) => `    "${e.path}") opts="${[...new Set(e.words)].sort().join(' ')}" ;;`)
    .join('\n');
  return `# eucanetd completion for bash: source <(eucanetd completion bash)
_eucanetd() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" skip="" i w opts
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if [[ -n $skip ]]; then skip=""; continue; fi
    case "$w" in
      ${[...valued].sort().join('|') || '--'}) skip=1 ;;
      -*) ;;
      *) path="\${path:+$path }$w" ;;
    esac
  done
  [[ -n $skip ]] && return 0
  case "$path" in
${cases}
    *) opts="" ;;
  esac
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -o default -F _eucanetd eucanetd
`;
}

/** The zsh completion: the bash function through bashcompinit. */
export function zshCompletion(program: Command): string {
  return `#compdef eucanetd
# eucanetd completion for zsh: source <(eucanetd completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(program).split('\n').slice(1).join('\n')}`;
}

/** Registers `completion bash|zsh`. */
export function registerCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: source <(eucanetd completion bash)')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      if (shell === 'bash') process.stdout.write(bashCompletion(program));
      else if (shell === 'zsh') process.stdout.write(zshCompletion(program));
      else {
        process.stderr.write(`eucanetd completion: unknown shell "${shell}" (bash or zsh)\n`);
        process.exitCode = 1;
      }
    });
}
