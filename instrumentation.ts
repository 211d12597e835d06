// Next.js calls register() once when the server process starts: background work of the app.
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  const { startWorkshopSweeper } = await import('./app/_lib/workshop-sweeper.server');
  startWorkshopSweeper();
}
