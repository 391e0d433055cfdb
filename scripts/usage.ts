/**
 * One option of a command's help: the flag as it is typed, then what it does, in columns (a long flag on its own
 * line). The words come from the catalogues, in the command line's language; the flags never change.
 */
export function helpOption(flag: string, text: string, column = 21): string {
  return flag.length < column - 2 ? `  ${flag.padEnd(column - 2)}${text}` : `  ${flag}\n${" ".repeat(column)}${text}`;
}
