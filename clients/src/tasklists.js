// The rules taskapi applies to a task list (core/tasklist.go), for a client
// cache that keeps its lists right after a mutation without asking the
// server again: which tasks a list holds (status, search) and in what order
// (orderBy). A list query must select the fields these read: id, status,
// title, description (when it searches), and its order's field.

const orderFields = { CREATED_AT: 'createdAt', UPDATED_AT: 'updatedAt', DUE_DATE: 'dueDate' };

// fold makes text comparable as the server's search does: without accents
// (é → e), case-folded (ß → ss).
export function fold(text) {
  return (text ?? '').normalize('NFD').replace(/\p{Mn}/gu, '').toLowerCase().replaceAll('ß', 'ss').normalize('NFC');
}

// inList reports whether task belongs to the list with these arguments.
export function inList(args, task) {
  if (args.status && task.status !== args.status) return false;
  const search = fold((args.search ?? '').trim());
  return search === '' || fold(task.title).includes(search) || fold(task.description).includes(search);
}

// compareTasks orders two tasks as the list with these arguments does:
// by the order's field (DateTimes are fixed-width UTC strings, so they
// compare as text), tasks without a due date last either way, ties by id
// (creation order, as CREATED_AT itself).
export function compareTasks(args, a, b) {
  const desc = args.orderBy?.direction === 'DESC';
  const field = orderFields[args.orderBy?.field ?? 'CREATED_AT'];
  const x = field === 'createdAt' ? null : a[field] ?? null;
  const y = field === 'createdAt' ? null : b[field] ?? null;
  if (field === 'dueDate' && (x === null) !== (y === null)) return x === null ? 1 : -1;
  const byValue = x === y ? 0 : x < y ? -1 : 1;
  const c = byValue || (a.id === b.id ? 0 : a.id < b.id ? -1 : 1);
  return desc ? -c : c;
}

// placeTask returns the loaded edges of a list after a task changed:
// without task id if it no longer belongs (current null: it was deleted),
// at its place if it does. A task that sorts after the last loaded edge
// while more pages follow is left for the page that will bring it. node
// reads an edge's task; edgeOf makes an edge of current.
export function placeTask(args, edges, hasNextPage, current, { node, edgeOf }, id = current?.id) {
  const kept = edges.filter((e) => node(e).id !== id);
  if (!current || !inList(args, current)) return kept;
  const at = kept.findIndex((e) => compareTasks(args, current, node(e)) < 0);
  if (at >= 0) return [...kept.slice(0, at), edgeOf(current), ...kept.slice(at)];
  return hasNextPage ? kept : [...kept, edgeOf(current)];
}
