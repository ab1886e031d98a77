/**
 * The IoT policy every provisioned device gets, as the workshop's CloudFormation stack made it: a device
 * may connect only with its thing name as client id, and publish, subscribe and receive only on its own
 * topics: the AWS reserved topics of its thing (`$aws/things/<thing>/...`: Jobs, Shadow) and its
 * telemetry prefix (`<prefix>/<thing>/...`). `${iot:Connection.Thing.ThingName}` makes one policy serve
 * every device.
 */

import { DEFAULT_TELEMETRY_PREFIX } from '../../edge/device-config';
import { iotArn, type IotResourceType } from '../../cloud/iot/arn';

const THING = '${iot:Connection.Thing.ThingName}';

/** The policy document (JSON text) for devices of one region and account. */
export function devicePolicyDocument(region: string, accountId: string, telemetryPrefix = DEFAULT_TELEMETRY_PREFIX): string {
  if (!/^[A-Za-z0-9_-]+$/.test(telemetryPrefix)) {
    throw new Error(`telemetry prefix "${telemetryPrefix}" must be one topic level of letters, digits, '_' or '-'`);
  }
  const arn = (type: IotResourceType, rest: string): string => iotArn(region, accountId, type, rest);
  const own = [`$aws/things/${THING}/*`, `${telemetryPrefix}/${THING}/*`];
  return JSON.stringify(
    {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'iot:Connect', Resource: arn('client', THING) },
        { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: own.map((t) => arn('topic', t)) },
        { Effect: 'Allow', Action: 'iot:Subscribe', Resource: own.map((t) => arn('topicfilter', t)) },
      ],
    },
    null,
    2,
  );
}
