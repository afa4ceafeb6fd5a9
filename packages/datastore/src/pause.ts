/** A delay that close() can cut short, so no timer outlives a watch (used by both backends). */
export class Pause {
  private timer: NodeJS.Timeout | undefined;
  private done: (() => void) | undefined;
  wait(ms: number): Promise<void> {
    return new Promise((res) => {
      this.done = res;
      this.timer = setTimeout(() => this.end(), ms);
    });
  }
  end(): void {
    clearTimeout(this.timer);
    const d = this.done;
    this.done = undefined;
    d?.();
  }
}
