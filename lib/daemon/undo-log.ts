// Steps that put back what a half-done change altered, run newest first.
// A reload logs one after each change it makes to shared state, so a
// failure anywhere leaves the running configuration as it was.
export class UndoLog {
  private steps: Array<() => void> = [];
  private armed = true;

  push(step: () => void): void {
    this.steps.push(step);
  }

  /** True until clear(): a failure now must be undone. */
  get pending(): boolean {
    return this.armed;
  }

  /** The change is complete: nothing to undo any more. */
  clear(): void {
    this.steps = [];
    this.armed = false;
  }

  /** Runs every step, newest first; one failing does not stop the others. Returns the failures. */
  run(): Error[] {
    const failures: Error[] = [];
    for (const step of this.steps.reverse()) {
      try {
        step();
      } catch (err) {
        failures.push(err instanceof Error ? err : new Error(String(err)));
      }
    }
    this.clear();
    return failures;
  }
}
