/**
 * The command registry: one import and one entry per command module. Keep this list sorted by name.
 */
import type { Command } from '../command.js';
import { bm25IndexCommand, bm25SearchCommand } from './bm25.js';
import { encodeCommand } from './encode.js';
import { evalCommand } from './eval.js';
import { evalSuiteCommand } from './eval-suite.js';
import { exportCommand } from './export.js';
import { fuseCommand } from './fuse.js';
import { indexCommand } from './index.js';
import { initCommand } from './init.js';
import { liveAddCommand, liveCreateCommand, liveDeleteCommand, liveInfoCommand, liveMergeCommand, liveSearchCommand } from './live.js';
import { mineCommand } from './mine.js';
import { mntpCommand } from './mntp.js';
import { quickstartCommand } from './quickstart.js';
import { rerankRunCommand, rerankScoreCommand, rerankTrainCommand } from './rerank.js';
import { searchCommand } from './search.js';
import { serveCommand } from './serve.js';
import { studyCpuCommand, studyCpuReportCommand, studyPlanCommand, studyReportCommand, studyRunCommand } from './study.js';
import { trainCommand } from './train.js';

export const commands: Command[] = [
  bm25IndexCommand,
  bm25SearchCommand,
  encodeCommand,
  evalCommand,
  evalSuiteCommand,
  exportCommand,
  fuseCommand,
  indexCommand,
  initCommand,
  liveAddCommand,
  liveCreateCommand,
  liveDeleteCommand,
  liveInfoCommand,
  liveMergeCommand,
  liveSearchCommand,
  mineCommand,
  mntpCommand,
  quickstartCommand,
  rerankRunCommand,
  rerankScoreCommand,
  rerankTrainCommand,
  searchCommand,
  serveCommand,
  studyPlanCommand,
  studyReportCommand,
  studyCpuCommand,
  studyCpuReportCommand,
  studyRunCommand,
  trainCommand,
];
