// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Stops a `@lit/task` run when its element leaves the page and runs it again when the element
 * comes back. @lit/task aborts a run only when the next one starts, so without this a view PVE
 * took off the page (the user picked another node or VM in the resource tree) would go on reading
 * from pveproxy for seconds beside the next view's own reads.
 */
import { type Task, TaskStatus } from '@lit/task';
import type { ReactiveController, ReactiveControllerHost } from 'lit';

export class TaskCutOnDisconnect implements ReactiveController {
  /** A run was cut short: it runs again when the host is connected again. */
  private cut = false;

  /**
   * @param why the abort reason's message (an `AbortError`), e.g. "the fleet view left the page"
   * @param rerun how to run the task again; defaults to `task.run()`
   */
  constructor(
    host: ReactiveControllerHost,
    private readonly task: Task<readonly unknown[], unknown>,
    private readonly why: string,
    private readonly rerun: () => void = () => void task.run(),
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    if (!this.cut) return;
    this.cut = false;
    this.rerun();
  }

  hostDisconnected(): void {
    if (this.task.status !== TaskStatus.PENDING) return;
    this.cut = true;
    this.task.abort(new DOMException(this.why, 'AbortError'));
  }
}
