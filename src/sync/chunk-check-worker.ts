/** Worker thread of ChunkChecker (chunk-check.ts): one reply per request, in order. */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThisThread } from '../worker-priority.js';
import { checkChunkPayload, type ChunkWorkerData, type ChunkWorkerReply, type ChunkWorkerRequest } from './chunk-check.js';

lowerThisThread();

const data = workerData as ChunkWorkerData;
const keys = new Map<string, KeyObject>(data.keys.map(([kid, pem]) => [kid, createPublicKey(pem)]));

parentPort!.on('message', (req: ChunkWorkerRequest) => {
  let reply: ChunkWorkerReply;
  try {
    reply = { id: req.id, ...checkChunkPayload(req.payload, keys, data.maxBytes, req.localVersion) };
  } catch (err) {
    reply = { id: req.id, ok: false, code: 'CHECK_FAILED', message: (err as Error).message };
  }
  // The body's bytes move to the gate's thread without a copy.
  parentPort!.postMessage(reply, reply.ok ? [reply.body.buffer as ArrayBuffer] : []);
});
