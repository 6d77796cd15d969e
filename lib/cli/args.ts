/** Small argument helpers shared by the CLI commands. */

export class UsageError extends Error {}

/** Reads `--name value` / `--name=value` / `--flag` options and positional arguments. */
export function parseArgs(argv: string[], spec: { flags?: string[]; options?: string[] }): {
  positional: string[];
  options: Record<string, string>;
  flags: Set<string>;
} {
  const flags = new Set<string>();
  const options: Record<string, string> = {};
  const positional: string[] = [];
  const knownFlags = new Set(spec.flags ?? []);
  const knownOptions = new Set(spec.options ?? []);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-' || !a.startsWith('-')) {
      positional.push(a);
      continue;
    }
    if (!a.startsWith('--')) throw new UsageError(`unknown option "${a}" (options are spelled --name)`);
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (flags.has(name) || name in options) throw new UsageError(`option --${name} given more than once`);
    if (knownFlags.has(name)) {
      if (eq >= 0) throw new UsageError(`option --${name} takes no value`);
      flags.add(name);
    } else if (knownOptions.has(name)) {
      const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`option --${name} needs a value`);
      options[name] = value;
    } else {
      const known = [...knownFlags, ...knownOptions].map((s) => `--${s}`).join(', ');
      throw new UsageError(`unknown option --${name}${known ? ` (known: ${known})` : ''}`);
    }
  }
  return { positional, options, flags };
}

/** Parses an integer option, with a clear error naming it. */
export function intOption(options: Record<string, string>, name: string, fallback: number, min = 1): number {
  return optionalIntOption(options, name, min) ?? fallback;
}

/** An integer option, or undefined when it is absent; a blank or non-integer value is an error naming it. */
export function optionalIntOption(options: Record<string, string>, name: string, min = 1): number | undefined {
  const raw = options[name];
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(v) || v < min) throw new UsageError(`--${name} must be an integer >= ${min}, got "${raw}"`);
  return v;
}

/** Checks that `value` is one of `allowed`, naming the option in the error. */
export function choice<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback?: T): T {
  if (value === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required (one of ${allowed.join(', ')})`);
    return fallback;
  }
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
}
