// k6 provides `console` in every context, but @types/k6 does not declare it and lib ES2020 has
// no DOM, so we declare the subset we use instead of pulling in Node's or the DOM's typings.
declare const console: {
  log(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
};
