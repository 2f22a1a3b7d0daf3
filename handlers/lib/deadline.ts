/** Rejects at `deadline` (epoch ms) if `work` has not settled: a hung call must not cost a custom resource its answer. */
export async function withDeadline<T>(work: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('views not applied before the deadline')), Math.max(0, deadline - Date.now()));
  });
  work.catch(() => undefined); // settled later or never: its outcome no longer matters
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
