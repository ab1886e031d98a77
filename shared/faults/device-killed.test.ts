/**
 * Fault: the device process is killed (SIGKILL) in the middle of a model update, once during the package
 * download and once just after the download, while the package is verified, loaded and health-checked.
 * Real agent processes (`npm run agent`'s entry point, simulator frames) against a real local cloud; the
 * package comes from a local HTTP server (packageServer) that holds the first response (download) or
 * reports when the whole package was sent (load). After a restart on the same state folder the agent must resume the job,
 * serve the new model and the execution must end SUCCEEDED; the kept state must be consistent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AgentProcess, createJob, jobExecution, provisionTestDevices, spawnAgent, startTestCloud, tempDir, waitFor, windowsOf } from '../edge/agent-testing';
import { packageServer } from '../edge/agent-testbed-testing';
import { signedTestPackage, testSigningKey } from '../edge/package-testing';
import { recordFigure } from './figures';

for (const phase of ['download', 'load'] as const) {
  test(`a device process killed during model ${phase} restarts into a good model and the job ends SUCCEEDED`, { timeout: 150_000 }, async () => {
    const tmp = await tempDir(`faults-kill-${phase}-`);
    const cloudDir = join(tmp.dir, 'cloud');
    const cloud = await startTestCloud(cloudDir);
    const key = testSigningKey();
    const v2 = signedTestPackage(key, '2.0.0', { bias: 0.05 });
    let onFirstSent: () => void = () => undefined;
    // download: the first response never comes (the process is killed while waiting for it).
    const server = await packageServer(v2, { holdFirst: phase === 'download', onSent: () => onFirstSent() });
    const agents: AgentProcess[] = [];
    try {
      writeFileSync(join(tmp.dir, 'pub.pem'), key.publicKeyPem);
      writeFileSync(join(tmp.dir, 'v1.tar.gz'), signedTestPackage(key, '1.0.0'));
      const [bundle] = await provisionTestDevices(cloudDir, join(tmp.dir, 'devices'), 1);
      const thing = bundle.split(/[\\/]/).pop() as string;
      const args = ['--config', bundle, '--state', join(tmp.dir, 'state'), '--public-key', join(tmp.dir, 'pub.pem'), '--model', join(tmp.dir, 'v1.tar.gz'), '--frame-rate', '200', '--capture-rate', '0', '--heartbeat', '600', '--events'];
      agents.push(spawnAgent(args));
      await waitFor(() => agents[0].events.some((e) => e.type === 'online') && windowsOf(agents[0]).length > 30, 60_000, `the agent online and scoring (${agents[0].stderr.slice(-3).join(' | ')})`);
      const url = server.url;
      // The kill: during the held download, or the moment the whole package was sent.
      let killedAt = 0;
      const kill = (): void => {
        if (killedAt) return;
        killedAt = Date.now();
        agents[0].proc.kill('SIGKILL');
      };
      if (phase === 'load') onFirstSent = kill;
      const created = Date.now();
      const wait = await createJob(cloud, `deploy-v2-${phase}`, JSON.stringify({ operation: 'deploy-model', model: { name: 'wind-turbine-anomaly', version: '2.0.0', url } }), [thing]);
      if (phase === 'download') {
        await waitFor(async () => (await jobExecution(cloud, `deploy-v2-${phase}`, thing)).statusDetails.step === 'downloading' && server.requests() === 1, 30_000, 'the download to start');
        kill();
      }
      await waitFor(() => killedAt > 0, 30_000, 'the kill');
      await agents[0].exited;
      server.dropConnections();
      const stateAtKill = JSON.parse(readFileSync(join(tmp.dir, 'state', 'agent-state.json'), 'utf8'));
      const v1Windows = windowsOf(agents[0]).length;

      const restarted = Date.now();
      agents.push(spawnAgent(args));
      const result = (await wait(90_000).catch((err: Error) => {
        throw new Error(`${err.message}\n${agents[1].stderr.join('\n')}`);
      }))[thing];
      const endedMs = Date.now() - restarted;
      await waitFor(() => windowsOf(agents[1]).some((w) => w.version === '2.0.0'), 20_000, 'v2 scoring').catch(() => undefined);
      const onV2 = windowsOf(agents[1]).some((w) => w.version === '2.0.0');
      const state = JSON.parse(readFileSync(join(tmp.dir, 'state', 'agent-state.json'), 'utf8'));
      const consistent = state.inflight === undefined && state.finished?.[`deploy-v2-${phase}`]?.status === 'SUCCEEDED' && state.active?.version === '2.0.0' && state.previous?.version === '1.0.0';
      const ok = result.status === 'SUCCEEDED' && onV2 && consistent;
      recordFigure({
        scenario: `device-killed-during-${phase}`,
        injected: phase === 'download' ? 'agent process SIGKILLed while its package download was held open by the server' : `agent process SIGKILLed the moment the whole package had been sent (verify / load / canary under way; the kept state then showed ${stateAtKill.active?.version === '2.0.0' ? '2.0.0 already installed' : 'the job in flight, 2.0.0 not installed'})`,
        held: `restarted on the same state: ${result.status === 'SUCCEEDED' ? 'job resumed and SUCCEEDED' : `job ended ${result.status} (${result.statusDetails.reason ?? 'no reason'})`}, ${onV2 ? 'serving 2.0.0' : 'NOT serving 2.0.0'}, kept state ${consistent ? 'consistent (active 2.0.0, previous 1.0.0, nothing in flight)' : 'INCONSISTENT'}; ${v1Windows} windows scored by 1.0.0 before the kill`,
        ok,
        lost: result.status === 'SUCCEEDED' ? 0 : 1,
        duplicated: 0,
        refused: 0,
        durationsMs: { 'job to kill': killedAt - created, 'restart to job end': endedMs },
        counts: { packageRequests: server.requests() },
      });
      assert.equal(result.status, 'SUCCEEDED', JSON.stringify(result));
      assert.equal(result.statusDetails.version, '2.0.0');
      assert.ok(onV2, 'the restarted agent serves 2.0.0');
      assert.ok(consistent, JSON.stringify(state));
      agents[1].proc.kill('SIGTERM');
      assert.equal(await agents[1].exited, 0);
    } finally {
      for (const a of agents) if (a.proc.exitCode === null && a.proc.signalCode === null) a.proc.kill('SIGKILL');
      server.close();
      await cloud.stop();
      await tmp.remove();
    }
  });
}
