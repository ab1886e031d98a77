/**
 * Kernel connection files: the JSON a Jupyter kernel reads to learn its five ports and signing key.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';

/** Environment variable naming the runner's process id; the kernel exits when that process is gone. */
export const RUNNER_PID_VARIABLE = 'NOTEBOOK_RUNNER_PID';

export interface ConnectionInfo {
  transport: 'tcp';
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: 'hmac-sha256';
  kernel_name: string;
}

/** Asks the OS for count distinct free TCP ports on host (held open together so none repeats). */
export async function findFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, host, () => resolve());
      });
    }
    return servers.map((s) => {
      const address = s.address();
      if (address === null || typeof address === 'string') throw new Error('could not read a free port');
      return address.port;
    });
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** A fresh loopback connection with ports free right now and a random HMAC-SHA256 key. */
export async function createConnectionInfo(kernelName = 'tslab'): Promise<ConnectionInfo> {
  // The kernel binds these ports shortly after; another process grabbing one in between is possible but
  // unlikely, and shows up as a clear "kernel did not start" error.
  const [shell, iopub, stdin, control, hb] = await findFreePorts(5);
  return {
    transport: 'tcp',
    ip: '127.0.0.1',
    shell_port: shell,
    iopub_port: iopub,
    stdin_port: stdin,
    control_port: control,
    hb_port: hb,
    key: randomBytes(32).toString('hex'),
    signature_scheme: 'hmac-sha256',
    kernel_name: kernelName,
  };
}

/** The ZeroMQ endpoint of one of the kernel's ports. */
export function endpoint(info: ConnectionInfo, port: number): string {
  return `${info.transport}://${info.ip}:${port}`;
}
