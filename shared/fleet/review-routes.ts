/**
 * The dashboard's alarm review API (fastify routes):
 *   GET  /api/turbines/:index/alarms                      the turbine's captured alarms, newest first, with labels
 *   POST /api/turbines/:index/alarms/:captureId/label     { decision: confirmed | rejected, operator?, note? }
 *   GET  /api/monitoring                                  the monitoring report's rows (drift verdict per version)
 * A refused request answers 400 (bad input), 404 (no such captured alarm) or 409 (decided otherwise before)
 * with the reason, and stores nothing.
 */
import type { FastifyInstance } from 'fastify';
import type { Heartbeat } from '../edge/agent';
import { type AlarmReview, monitoringRows, ReviewError } from './alarm-review';

/** What the routes need: the review (null when the farm's cloud gave no credentials), the turbines, heartbeats. */
export interface ReviewRoutesOptions {
  review: AlarmReview | null;
  /** Thing name of each turbine index. */
  thingNames: readonly string[];
  heartbeats: () => Heartbeat[];
  log?: (line: string) => void;
}

/** Adds the alarm review routes to app (in their own scope, whose refusals carry the status and the reason). */
export function registerReviewRoutes(app: FastifyInstance, o: ReviewRoutesOptions): void {
  void app.register(async (scope) => reviewRoutes(scope, o));
}

function reviewRoutes(app: FastifyInstance, o: ReviewRoutesOptions): void {
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err instanceof ReviewError || (err.statusCode && err.statusCode < 500) ? (err.statusCode ?? 500) : 500;
    void reply.status(status).send({ error: err.message });
  });
  const review = (): AlarmReview => {
    if (!o.review) throw new ReviewError(503, "alarm review needs the cloud's credentials, which this farm was not given");
    return o.review;
  };
  const index = { type: 'integer', minimum: 0, maximum: o.thingNames.length - 1 } as const;
  app.get<{ Params: { index: number } }>('/api/turbines/:index/alarms', { schema: { params: { type: 'object', required: ['index'], properties: { index } } } }, async (req) => ({
    alarms: await review().alarms(o.thingNames[req.params.index]),
  }));
  app.post<{ Params: { index: number; captureId: string }; Body: { decision: 'confirmed' | 'rejected'; operator?: string; note?: string } }>(
    '/api/turbines/:index/alarms/:captureId/label',
    {
      schema: {
        params: { type: 'object', required: ['index', 'captureId'], properties: { index, captureId: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,128}$' } } },
        body: {
          type: 'object',
          required: ['decision'],
          additionalProperties: false,
          properties: { decision: { type: 'string', enum: ['confirmed', 'rejected'] }, operator: { type: 'string', minLength: 1, maxLength: 128 }, note: { type: 'string', maxLength: 2000 } },
        },
      },
    },
    async (req) => {
      const { decision, operator, note } = req.body;
      const result = await review().decide({ thingName: o.thingNames[req.params.index], captureId: req.params.captureId, decision, operator: operator ?? 'dashboard', ...(note === undefined ? {} : { note }) });
      o.log?.(`label: ${result.label.thingName} alarm ${result.label.captureId} ${result.label.decision} by ${result.label.operator}${result.created ? '' : ' (already stored)'}`);
      return result;
    },
  );
  app.get('/api/monitoring', async () => monitoringRows(await review().monitoring(o.thingNames, o.heartbeats)));
}
