/**
 * A single-node Slurm cluster for tests: munged as the munge user with its own key and socket, and
 * slurmctld and slurmd as root, all configured in a temporary folder (this host is the controller
 * and the only node, on two free ports), so nothing of the machine's own Slurm or munge setup is
 * read or changed. `startSlurmCluster` returns a reason instead when the daemons cannot start here.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface SlurmCluster {
  dir: string;
  /** Environment for Slurm clients (sbatch, scontrol, ...) talking to this cluster. */
  env: NodeJS.ProcessEnv;
  /** Cancels every job, then stops the daemons (SIGTERM, SIGKILL after 10 s). Safe to call twice. */
  stop(): Promise<void>;
}

const TOOLS = ['munged', 'mungekey', 'slurmctld', 'slurmd', 'sbatch', 'scontrol', 'scancel', 'squeue', 'sinfo', 'setpriv'];

function which(cmd: string): string | null {
  for (const d of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = path.join(d, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tail(file: string, n = 8): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

function exited(p: ChildProcess): boolean {
  return p.exitCode !== null || p.signalCode !== null;
}

async function stopProcess(p: ChildProcess): Promise<void> {
  if (exited(p)) return;
  p.kill('SIGTERM');
  for (let i = 0; i < 100 && !exited(p); i++) await sleep(100);
  if (!exited(p)) p.kill('SIGKILL');
  for (let i = 0; i < 50 && !exited(p); i++) await sleep(100);
}

/** Starts the cluster, or returns why it cannot run here. */
export async function startSlurmCluster(): Promise<SlurmCluster | { skip: string }> {
  if (process.getuid?.() !== 0) return { skip: 'needs root: slurmctld and slurmd run as root and munged as the munge user' };
  const missing = TOOLS.filter((t) => !which(t));
  if (missing.length) return { skip: `slurm-wlm and munge are not installed (missing ${missing.join(', ')}); environment/setup.sh installs them` };
  const id = spawnSync('id', ['-u', 'munge'], { encoding: 'utf8' });
  if (id.status !== 0) return { skip: 'there is no munge user (the munge package creates it)' };
  const mungeUid = Number(id.stdout.trim());
  const mungeGid = Number(spawnSync('id', ['-g', 'munge'], { encoding: 'utf8' }).stdout.trim());

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-slurm-'));
  fs.chmodSync(dir, 0o755);
  const mungeDir = path.join(dir, 'munge');
  for (const d of [mungeDir, path.join(dir, 'state'), path.join(dir, 'spool')]) fs.mkdirSync(d);
  fs.chmodSync(mungeDir, 0o755); // munged wants its socket's folder searchable by every user
  fs.chownSync(mungeDir, mungeUid, mungeGid);
  const key = path.join(mungeDir, 'munge.key');
  const procs: ChildProcess[] = [];
  let stopped = false;
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: path.join(dir, 'slurm.conf') };
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Jobs first, so no task keeps running without its slurmd.
    if (procs.length >= 3 && !exited(procs[1])) {
      spawnSync('scancel', ['--full', '--user', 'root'], { env, timeout: 10_000 });
      for (let i = 0; i < 50; i++) {
        const q = spawnSync('squeue', ['-h'], { env, encoding: 'utf8', timeout: 10_000 });
        if (q.status !== 0 || q.stdout.trim() === '') break;
        await sleep(200);
      }
    }
    for (const p of [...procs].reverse()) await stopProcess(p);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const fail = async (why: string) => {
    const logs = ['munged.log', 'slurmctld.log', 'slurmd.log'].map((f) => `${f}:\n${tail(path.join(dir, f))}`).join('\n');
    await stop();
    return { skip: `${why}\n${logs}` };
  };
  try {
    const mk = spawnSync(which('mungekey')!, ['--create', '--keyfile', key], { encoding: 'utf8' });
    if (mk.status !== 0) return await fail(`mungekey could not create a key: ${mk.stderr.trim()}`);
    fs.chownSync(key, mungeUid, mungeGid);
    fs.chmodSync(key, 0o600);
    const socket = path.join(mungeDir, 'munge.socket');
    const host = os.hostname().split('.')[0];
    const [ctldPort, dPort] = [await freePort(), await freePort()];
    const conf = [
      'ClusterName=sidtest',
      `SlurmctldHost=${host}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${dPort}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${socket}`,
      `StateSaveLocation=${path.join(dir, 'state')}`,
      `SlurmdSpoolDir=${path.join(dir, 'spool')}`,
      `SlurmctldPidFile=${path.join(dir, 'slurmctld.pid')}`,
      `SlurmdPidFile=${path.join(dir, 'slurmd.pid')}`,
      `SlurmctldLogFile=${path.join(dir, 'slurmctld.log')}`,
      `SlurmdLogFile=${path.join(dir, 'slurmd.log')}`,
      // No cgroups (containers rarely allow them): plain process tracking, no task binding.
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'MpiDefault=none',
      'ReturnToService=2',
      'SchedulerType=sched/backfill',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_CPU',
      'AccountingStorageType=accounting_storage/none',
      'JobAcctGatherType=jobacct_gather/none',
      'JobCompType=jobcomp/none',
      'SlurmdParameters=config_overrides',
      `NodeName=${host} NodeAddr=127.0.0.1 CPUs=${Math.max(1, os.cpus().length)} State=UNKNOWN`,
      `PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
    ];
    fs.writeFileSync(env.SLURM_CONF!, conf.join('\n') + '\n');
    const out = (name: string) => fs.openSync(path.join(dir, `${name}.out`), 'w');
    // setpriv execs munged itself, so the pid below is munged's and stopping it needs no pid file.
    procs.push(
      spawn(which('setpriv')!, ['--reuid=munge', '--regid=munge', '--clear-groups', which('munged')!, '--foreground', '--socket', socket, '--key-file', key,
        '--pid-file', path.join(mungeDir, 'munged.pid'), '--log-file', path.join(dir, 'munged.log'), '--seed-file', path.join(mungeDir, 'munged.seed')],
      { stdio: ['ignore', out('munged'), out('munged-err')] }),
    );
    for (let i = 0; i < 50 && !fs.existsSync(socket); i++) await sleep(100);
    if (!fs.existsSync(socket)) return await fail('munged did not start');
    procs.push(spawn(which('slurmctld')!, ['-D', '-f', env.SLURM_CONF!], { env, stdio: ['ignore', out('slurmctld'), out('slurmctld-err')] }));
    procs.push(spawn(which('slurmd')!, ['-D', '-f', env.SLURM_CONF!, '-N', host], { env, stdio: ['ignore', out('slurmd'), out('slurmd-err')] }));
    for (let i = 0; i < 150; i++) {
      if (procs.some(exited)) return await fail('a daemon exited while starting');
      const s = spawnSync('sinfo', ['-h', '-o', '%T'], { env, encoding: 'utf8', timeout: 10_000 });
      if (s.status === 0 && /^idle/m.test(s.stdout)) return { dir, env, stop };
      await sleep(200);
    }
    return await fail('the node did not become idle within 30 s');
  } catch (err) {
    return await fail(`starting the cluster failed: ${(err as Error).message}`);
  }
}
