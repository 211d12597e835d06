// The sandbox agent daemon: validates its config, checks the host, reaps sandboxes a previous run
// left behind, serves the control API and terminal WebSockets, and tears everything down on exit.
import path from 'node:path';
import { ConfigError, loadConfig } from './config';
import { nsReader, stopNsReader } from './grader/ns-reader';
import { httpDeliver, ResultOutbox } from './outbox';
import { log, setLogLevel } from './log';
import { bindGauges, Gauge } from './metrics';
import { UnshareDriver } from './sandbox/unshare-driver';
import { createAgentServer } from './server';
import { SessionManager } from './session';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`nslab agent: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  setLogLevel(config.AGENT_LOG_LEVEL);
  const driver = new UnshareDriver();
  try {
    await driver.preflight();
  } catch (error) {
    // A host that cannot run sandboxes (cgroup layout, kernel, AppArmor, limits): one clear message
    // naming the file or setting and its fix, and the "configuration" exit code.
    if (error instanceof Error && error.message.startsWith('sandbox preflight:')) {
      process.stderr.write(`nslab agent: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  log('info', `cgroups: ${driver.cgroupLayout.describe()}`);
  for (const warning of driver.host?.warnings ?? []) log('warn', warning);
  // Build (first start) and check the grader's namespace reader now, not on the first snapshot.
  log('info', nsReader() ? 'grader: nsread ready' : 'grader: nsread unavailable, one nsenter exec per namespace');
  const reaped = await driver.reapLeftovers(new Set());
  if (reaped.length > 0) log('info', 'reaped sandboxes left by a previous run', { count: reaped.length, ids: reaped });
  const outbox = config.AGENT_PROGRESS_URL
    ? new ResultOutbox(path.join(config.AGENT_STATE_DIR, 'outbox.sqlite'), httpDeliver(config.AGENT_PROGRESS_URL, config.AGENT_SECRET))
    : null;
  if (outbox && outbox.pendingCount() > 0) log('info', 'delivering progress queued by a previous run', { pending: outbox.pendingCount() });
  outbox?.start();
  const sessions = new SessionManager(driver, config, outbox);
  const agent = createAgentServer(config, sessions);
  bindGauges([
    new Gauge('nslab_sessions', 'Sessions (sandboxes) running now.', () => sessions.size),
    new Gauge('nslab_progress_outbox_pending', 'Passed steps not yet stored by the app.', () => outbox?.pendingCount() ?? 0),
    new Gauge('nslab_agent_rss_bytes', 'Resident memory of the agent process.', () => process.memoryUsage().rss),
  ]);
  await new Promise<void>((resolve, reject) => {
    agent.server.once('error', reject);
    agent.server.listen(config.AGENT_PORT, config.AGENT_HOST, () => resolve());
  });
  log('info', 'agent listening', { host: config.AGENT_HOST, port: config.AGENT_PORT, driver: driver.name });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log('info', 'agent stopping', { signal });
    const hardStop = setTimeout(() => process.exit(1), 10_000);
    hardStop.unref();
    await sessions.shutdown();
    stopNsReader();
    await agent.close();
    outbox?.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`nslab agent: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
