// README's command table is how users find out what the CLI can do: it must name every command --help lists.
import fs from 'node:fs';
import path from 'node:path';
import { buildProgram } from '../../../src/cli';

const README = fs.readFileSync(path.resolve(__dirname, '../../../README.md'), 'utf8');
const table = README.slice(
  README.indexOf('## Commands'),
  README.indexOf('\n## ', README.indexOf('## Commands') + 1),
);

function commandsOf(cmd: ReturnType<typeof buildProgram>, prefix = ''): string[] {
  return cmd.commands.flatMap((c) => {
    const name = `${prefix}${c.name()}`;
    const subs = commandsOf(c as ReturnType<typeof buildProgram>, `${name} `);
    return subs.length > 0 ? [name, ...subs] : [name];
  });
}

describe("README's command table", () => {
  const commands = commandsOf(buildProgram());

  it('lists the CLI commands', () => {
    expect(commands).toEqual(expect.arrayContaining(['worker', 'failed list', 'rerun', 'monitor start']));
  });

  it.each(commands)('names `%s`', (name) => {
    const words = name.split(' ');
    // A row starts with the command's words; subcommands may share a row (`schedules pause|unpause`).
    const row = table
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .find((l) => {
        const cell = l.slice(3, l.indexOf('`', 3)).replace(/\\\|/g, '|');
        const first = cell.split(' ');
        return (
          first[0] === words[0] && (words.length === 1 || (first[1] ?? '').split('|').includes(words[1]))
        );
      });
    expect(row).toBeDefined();
  });
});
