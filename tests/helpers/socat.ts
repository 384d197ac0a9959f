/** The pty pair lives in bench/lib so benches can use it too. */
export * from '../../bench/lib/pty.js';
