/**
 * The errors users meet most, each as one sentence that says what is wrong and how to fix it.
 * `explain()` turns a raw error (from Node, grpc-js or flowgate) into that sentence; the CLI prints
 * it instead of a stack trace. `docs/errors.md` is generated from this list
 * (`npm run docs:errors`), and a test fails when the two differ.
 */

/** One documented error. */
export interface KnownError {
  /** Stable identifier (a heading in docs/errors.md). */
  slug: string;
  /** What the user sees, as a template (`<port>` stands for a value). */
  looksLike: string;
  /** When it happens. */
  cause: string;
  /** What to do. */
  fix: string;
  /** Recognises the raw error and returns the sentence, or undefined. */
  explain?: (message: string, code: string | undefined) => string | undefined;
}

export const KNOWN_ERRORS: KnownError[] = [
  {
    slug: 'port-in-use',
    looksLike: 'port 12345 on 127.0.0.1 is already in use: ...',
    cause: 'A Gateway, Executor or head was given a port that another process holds.',
    fix: 'stop the process that holds it (`ss -ltnp | grep :12345`), or choose another port (0 or no port picks a free one)',
    explain: (m, code) => {
      const hit = /EADDRINUSE[^\n]*?(?:address already in use\s*)?([\w.:[\]-]+?):(\d+)\b/.exec(m);
      if (!hit && code !== 'EADDRINUSE') return undefined;
      const [host, port] = hit ? [hit[1], hit[2]] : ['this host', '?'];
      const fix = KNOWN_ERRORS[0]!.fix;
      return `port ${port} on ${host} is already in use: ${port === '?' ? fix : fix.replace(':12345', `:${port}`)}`;
    },
  },
  {
    slug: 'module-not-found',
    looksLike: 'cannot find the module /app/my_exec.ts: ...',
    cause:
      '`uses` (or `modules`) names a file that does not exist, or the module imports a package that is not installed.',
    fix: 'check the path (paths in a Flow YAML are relative to the YAML file) and `npm install` the packages it imports',
    explain: (m, code) => {
      const hit = /Cannot find (?:module|package) '([^']+)'/.exec(m);
      if (!hit && code !== 'ERR_MODULE_NOT_FOUND') return undefined;
      const what = hit ? hit[1]!.replace(/^file:\/\//, '') : 'a module';
      return `cannot find the module ${what}: ${KNOWN_ERRORS[1]!.fix}`;
    },
  },
  {
    slug: 'not-an-executor',
    looksLike: 'MyExec does not extend Executor: ...',
    cause: "The class `uses` names is not a subclass of flowgate's `Executor`.",
    fix: "declare it as `class MyExec extends Executor` with `import { Executor } from 'flowgate'`",
    explain: (m) => {
      const hit = /^(\w+) does not extend Executor$/m.exec(m);
      return hit
        ? `${hit[1]} does not extend Executor: ${KNOWN_ERRORS[2]!.fix.replace(/MyExec/g, hit[1]!)}`
        : undefined;
    },
  },
  {
    slug: 'class-not-exported',
    looksLike: 'module file:///app/exec.ts has no export named MyExec: export the class, or ...',
    cause: "`uses: 'exec.ts:MyExec'` names a class the module does not export.",
    fix: 'export the class (`export class MyExec ...`), or correct the name after the colon',
  },
  {
    slug: 'executor-failed-to-import',
    looksLike: 'executor encoder failed to start: <the error its module threw>',
    cause: 'Importing the Executor module, or its constructor, threw.',
    fix: 'run `flowgate executor --uses <the same uses>` to see the error alone; FLOWGATE_LOG_LEVEL=debug adds the stack',
  },
  {
    slug: 'yaml-unknown-key',
    looksLike: "flow.yml:3:3: unknown key 'protocl' in the gateway: did you mean 'protocol'? (known: ...)",
    cause:
      'A Flow, Executor or Gateway YAML file has a key its schema does not know, or a value of the wrong type.',
    fix: 'rename the key as suggested; `flowgate flow --help` lists every Gateway option',
  },
  {
    slug: 'executor-unreachable',
    looksLike:
      'cannot reach Executor encoder at 10.0.0.5:8080: ...; it may be down (or: lost the connection to Executor encoder at ...)',
    cause: 'The Gateway cannot connect to an Executor (it crashed, is restarting, or its address is wrong).',
    fix: 'check it with `flowgate ping executor 10.0.0.5:8080`; a Flow restarts crashed Executors (`restartPolicy`)',
  },
  {
    slug: 'executor-timeout',
    looksLike:
      'Executor encoder at 127.0.0.1:5001 did not answer within timeoutSend=3000 ms; raise timeoutSend if it needs longer',
    cause: 'An Executor took longer than `timeoutSend` (or the client timeout) to answer.',
    fix: 'raise `timeoutSend` / the client `timeout`, or add replicas to the slow Executor',
  },
  {
    slug: 'gateway-unreachable',
    looksLike: 'cannot reach the Gateway at 127.0.0.1:12345: ...',
    cause: 'The Client cannot connect: wrong host, port or protocol, or the Gateway is down.',
    fix: 'check with `flowgate ping gateway grpc://127.0.0.1:12345` (use the protocol the Gateway serves on that port)',
  },
  {
    slug: 'custom-gateway-health',
    looksLike: 'the custom Gateway on http port 12345 failed its health check for 5000 ms: ...',
    cause: 'A custom Gateway did not answer the health check of its first port.',
    fix: 'answer `GET /` with 200 (FastifyBaseGateway does), or call `addHealthService(server)` on a gRPC server',
  },
];

/**
 * The one sentence for an error: the known explanation when one matches, else the error's own
 * message (flowgate's messages already say what to do).
 *
 * @example
 * ```ts
 * explain(new Error('listen EADDRINUSE: address already in use 127.0.0.1:8080'));
 * // 'port 8080 on 127.0.0.1 is already in use: stop the process that holds it ...'
 * ```
 */
export function explain(err: unknown): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as NodeJS.ErrnoException).code;
  for (const k of KNOWN_ERRORS) {
    const sentence = k.explain?.(e.message, code);
    if (sentence) return sentence;
  }
  return e.message;
}

/** docs/errors.md, generated from {@link KNOWN_ERRORS}. */
export function errorsMarkdown(): string {
  const out = [
    '# Errors you may meet',
    '',
    '<!-- Generated from src/core/known-errors.ts by `npm run docs:errors`; a test checks it. -->',
    '',
    'Each error prints as one sentence (`flowgate: ...`) that says what to do; set',
    '`FLOWGATE_LOG_LEVEL=debug` to also see the stack.',
    '',
  ];
  for (const k of KNOWN_ERRORS) {
    out.push(`## ${k.slug}`, '', '```', k.looksLike, '```', '', `- When: ${k.cause}`, `- Fix: ${k.fix}.`, '');
  }
  return out.join('\n');
}
