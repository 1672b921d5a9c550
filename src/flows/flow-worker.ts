import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../core/errors';
import { FlowChain } from './flow-chain';
import type { WorkerInit, WorkerReady, WorkerRequest } from './worker-protocol';

/**
 * The thread that runs one flow's steps. It is started with resourceLimits, so a step that exhausts
 * its memory ends this thread, not the mapper; its requests come one at a time from FlowWorker.
 */
function serve(): void {
  const port = parentPort;
  if (port === null) return;
  let chain: FlowChain;
  try {
    chain = new FlowChain(workerData as WorkerInit);
  } catch (err) {
    port.postMessage({ ready: false, error: errorMessage(err) } satisfies WorkerReady);
    return;
  }
  const init = workerData as WorkerInit;
  port.postMessage({ ready: true, hasInterval: chain.hasInterval, startup: chain.startup(init.now, 0) } satisfies WorkerReady);
  port.on('message', (req: WorkerRequest) => {
    const reply = chain.handle(req);
    port.postMessage(reply, [reply.outputs.bytes.buffer as ArrayBuffer]);
  });
}

serve();
