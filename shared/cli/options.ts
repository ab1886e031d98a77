/** Commander argument parsers shared by the command-line tools: one clear message per bad value. */
import { InvalidArgumentError } from 'commander';

/** A parser for a finite number that passes `ok`; a bad value reads "<name> must be <what>, got "<value>"". */
export function numberOption(name: string, what: string, ok: (n: number) => boolean = () => true): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new InvalidArgumentError(`${name} must be ${what}, got "${value}"`);
    return n;
  };
}

/** A parser for an integer of at least `min`. */
export function integerOption(name: string, min: number): (value: string) => number {
  return numberOption(name, `an integer >= ${min}`, (n) => Number.isInteger(n) && n >= min);
}
