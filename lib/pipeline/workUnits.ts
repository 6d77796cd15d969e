/**
 * Units of repeated work: what a smoke budget cuts and what its extrapolation scales. Each unit says
 * how to cut a profile's work to a number of smoke units and how much of that work a profile does on
 * its data; stage kinds (stageKinds.ts) and the training (budget.ts) name the units they do, and the
 * smoke budget reads them from there, naming none itself.
 */
import type { PreparedData } from '../types';
import type { Profile } from './profiles';

export interface WorkUnit {
  /** How reports name it ("searchSteps"). */
  name: string;
  /** The profile with this work cut to `scale` smoke units (sizes and data unchanged). */
  cut(p: Profile, scale: number): Profile;
  /** How much of this work `p` does on its prepared data (an upper bound where a plateau may stop it early). */
  count(p: Profile, data: PreparedData): number;
}
