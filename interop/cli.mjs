// What the interop drivers (jssip/client.mjs, sipjs/client.mjs,
// browser/call.mjs) share: their command-line reading and JSON-line output.

/** Writes one JSON line on stdout. */
export const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

/**
 * Reads `process.argv` by `table` (flag → [key, kind], kind one of
 * 'string', 'number', 'flag', 'pair' (two values, appended to a list)),
 * starting from `defaults`; `--url`, `--user` and `--domain` are required.
 * Bad arguments print `name: why` on stderr and exit 2.
 */
export function readArgs(name, table, defaults) {
  const argv = process.argv.slice(2);
  const a = structuredClone(defaults);
  try {
    for (let i = 0; i < argv.length; i++) {
      const k = argv[i];
      const next = () => {
        if (i + 1 >= argv.length) throw new Error(`${k} needs a value`);
        return argv[++i];
      };
      const entry = table[k];
      if (!entry) throw new Error(`unknown argument ${k}`);
      const [key, kind] = entry;
      switch (kind) {
        case 'flag': a[key] = true; break;
        case 'number': a[key] = Number(next()); break;
        case 'pair': (a[key] ??= []).push([next(), next()]); break;
        default: a[key] = next();
      }
    }
    if (!a.url || !a.user || !a.domain) throw new Error('--url, --user and --domain are required');
  } catch (e) {
    process.stderr.write(`${name}: ${e.message}\n`);
    process.exit(2);
  }
  return a;
}

/** The arguments of jssip/client.mjs and sipjs/client.mjs. */
export const CLIENT_ARGS = {
  '--url': ['url', 'string'],
  '--user': ['user', 'string'],
  '--domain': ['domain', 'string'],
  '--password': ['password', 'string'],
  '--register': ['register', 'flag'],
  '--options': ['options', 'string'],
  '--message': ['messages', 'pair'],
  '--await-messages': ['awaitMessages', 'number'],
  '--timeout': ['timeout', 'number'],
};

/** Their defaults. */
export const CLIENT_DEFAULTS = { messages: [], awaitMessages: 0, timeout: 10, register: false };

/**
 * Runs `run()` (resolving to whether every step succeeded) under a
 * timeout of `seconds`, then `cleanup()`; prints the last line
 * {"event":"done","ok":…} and exits 0 or 1.
 */
export function finish(run, seconds, cleanup) {
  const timer = setTimeout(() => {
    say({ event: 'done', ok: false, cause: `timeout after ${seconds} s` });
    process.exit(1);
  }, seconds * 1000);
  run().then(
    async (ok) => {
      clearTimeout(timer);
      say({ event: 'done', ok });
      await cleanup();
      process.exit(ok ? 0 : 1);
    },
    async (e) => {
      clearTimeout(timer);
      say({ event: 'done', ok: false, cause: String(e && e.message ? e.message : e) });
      await cleanup();
      process.exit(1);
    },
  );
}
