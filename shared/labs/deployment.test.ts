import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { EdgeAgent } from '../edge/index';
import { watchDeployment, type AgentJobResult } from './deployment';

/** Stand-ins for agents: only the thing name and the 'job' event that watchDeployment listens to. */
function fakeAgents(n: number): EdgeAgent[] {
  return Array.from({ length: n }, (_, i) => Object.assign(new EventEmitter(), { thingName: `turbine-${i}` }) as unknown as EdgeAgent);
}

test('resolves in the agents order once every agent has ended the job, ignoring other jobs and progress', async () => {
  const agents = fakeAgents(3);
  const seen: string[] = [];
  const watching = watchDeployment(agents, 'deploy-1', { onResult: (r) => seen.push(r.thingName) });
  agents[2].emit('job', { jobId: 'deploy-1', status: 'SUCCEEDED', statusDetails: { canaryWindows: '8' } });
  agents[0].emit('job', { jobId: 'deploy-0', status: 'SUCCEEDED', statusDetails: {} });
  agents[0].emit('job', { jobId: 'deploy-1', status: 'IN_PROGRESS', statusDetails: {} });
  agents[0].emit('job', { jobId: 'deploy-1', status: 'FAILED', statusDetails: { reason: 'failed-health-check' } });
  agents[0].emit('job', { jobId: 'deploy-1', status: 'SUCCEEDED', statusDetails: {} }); // a re-report changes nothing
  agents[1].emit('job', { jobId: 'deploy-1', status: 'SUCCEEDED', statusDetails: {} });
  const results: AgentJobResult[] = await watching;
  assert.deepEqual(results.map((r) => [r.thingName, r.status]), [['turbine-0', 'FAILED'], ['turbine-1', 'SUCCEEDED'], ['turbine-2', 'SUCCEEDED']]);
  assert.deepEqual(results[0].statusDetails, { reason: 'failed-health-check' });
  assert.deepEqual(seen, ['turbine-2', 'turbine-0', 'turbine-1']);
  assert.ok(agents.every((a) => a.listenerCount('job') === 0), 'listeners removed');
});

test('a timeout names the agents that have not ended the job, and removes its listeners', async () => {
  const agents = fakeAgents(2);
  const watching = watchDeployment(agents, 'deploy-2', { timeoutMs: 20 });
  agents[1].emit('job', { jobId: 'deploy-2', status: 'SUCCEEDED', statusDetails: {} });
  await assert.rejects(watching, /^Error: job deploy-2: 1 of 2 agents had not ended it after 0 s \(turbine-0\)$/);
  assert.ok(agents.every((a) => a.listenerCount('job') === 0));
});
