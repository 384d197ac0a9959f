/** The socat pty pair lives in src/ (npm start's simulation profile uses it too). */
export * from '../../src/daemon/sim-pty.js';
