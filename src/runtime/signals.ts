// Graceful shutdown: SIGTERM/SIGINT abort one AbortSignal that every loop honours; a second
// signal exits at once (an operator pressing Ctrl-C twice means it).
export function shutdownSignal(proc: NodeJS.Process = process): AbortSignal {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) proc.exit(130);
    controller.abort(new Error(`received ${name}`));
  };
  proc.once('SIGTERM', () => {
    onSignal('SIGTERM');
    proc.once('SIGTERM', () => {
      onSignal('SIGTERM');
    });
  });
  proc.once('SIGINT', () => {
    onSignal('SIGINT');
    proc.once('SIGINT', () => {
      onSignal('SIGINT');
    });
  });
  return controller.signal;
}
