/**
 * The simulator's ground truth: every injected fault, and when the device and then the cloud saw the
 * alarm that belongs to it (the detection delays the dashboard shows).
 */
import type { FaultKind, FaultSeverity } from '../turbine/faults';

/** One injected fault and when the device and the cloud saw it. */
export interface InjectionRecord {
  index: number;
  thingName: string;
  kind: FaultKind;
  severity: FaultSeverity;
  /** Wall time (ms) the fault's first frame was produced, and its event time. */
  onsetAt: number;
  onsetEventTime: string;
  /** Detector delay in simulated seconds: end of the first alarmed window minus the onset (event time). */
  detectorDelayS: number | null;
  /** Wall time (ms) the device raised the alarm, and the console (the dashboard's server) received it. */
  deviceAlarmAt: number | null;
  cloudAlarmAt: number | null;
  /** cloudAlarmAt - onsetAt, in ms. */
  dashboardDelayMs: number | null;
}

/** Every injection, oldest first, with the first device and cloud alarm matched to each. */
export class GroundTruth {
  readonly injections: InjectionRecord[] = [];

  /** Records a fault from its first frame (wall time and event time); returns the new record. */
  onset(index: number, thingName: string, kind: FaultKind, severity: FaultSeverity, wallMs: number, eventTime: string): InjectionRecord {
    const rec: InjectionRecord = { index, thingName, kind, severity, onsetAt: wallMs, onsetEventTime: eventTime, detectorDelayS: null, deviceAlarmAt: null, cloudAlarmAt: null, dashboardDelayMs: null };
    this.injections.push(rec);
    return rec;
  }

  /** The device raised an alarm for a window ending at endEventTime: the first one sets the detector delay. */
  deviceAlarm(index: number, endEventTime: string, wallMs: number): void {
    const rec = this.openInjection(index, endEventTime);
    if (rec && rec.deviceAlarmAt === null) {
      rec.deviceAlarmAt = wallMs;
      rec.detectorDelayS = (Date.parse(endEventTime) - Date.parse(rec.onsetEventTime)) / 1000;
    }
  }

  /** The console received an alarm: the first one sets the dashboard delay. */
  cloudAlarm(index: number, endEventTime: string, receivedAt: number): void {
    const rec = this.openInjection(index, endEventTime);
    if (rec && rec.cloudAlarmAt === null) {
      rec.cloudAlarmAt = receivedAt;
      rec.dashboardDelayMs = receivedAt - rec.onsetAt;
    }
  }

  /** The newest injection on a turbine that an alarm ending at endEventTime can belong to. */
  private openInjection(index: number, endEventTime: string): InjectionRecord | undefined {
    const t = Date.parse(endEventTime);
    for (let k = this.injections.length - 1; k >= 0; k--) {
      const r = this.injections[k];
      if (r.index === index && Date.parse(r.onsetEventTime) <= t) return r;
    }
    return undefined;
  }
}
