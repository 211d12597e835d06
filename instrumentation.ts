// Next.js calls register() once when the server process starts: background work of the app.
// The import sits inside the NEXT_RUNTIME check (Next's documented pattern) so that the edge
// compilation of this file drops it: the workshop sweeper needs Node (database drivers, argon2).
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { startWorkshopSweeper } = await import('./app/_lib/workshop-sweeper.server');
    startWorkshopSweeper();
  }
}
