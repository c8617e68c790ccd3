import { inList, placeTask } from './tasklists.js';

// The fields of a task the list rules read (tasklists.js).
const listFields = ['id', 'status', 'title', 'description', 'createdAt', 'updatedAt', 'dueDate'];

// taskListsUpdate returns the `update` of a task mutation (createTask,
// updateTask, removeTask) for Apollo Client: every cached `tasks` list
// shows the change at once, in its place and with its totalCount, and a
// removed task leaves the cache. For updateTask, pass the task as it was
// before (the UI has it): it tells whether the task counted in a list whose
// loaded pages do not show it. Select `owner { id stats { … } }` in the
// mutation (in removeTask: `task { id owner { … } }`) and `me.stats` follows.
export function taskListsUpdate(previous = null) {
  return (cache, { data }) => {
    const removed = data.removeTask?.task ?? null;
    const id = (data.createTask ?? data.updateTask ?? removed).id;
    cache.modify({
      fields: {
        tasks(list, { storeFieldName, readField, toReference }) {
          const args = listArgs(storeFieldName);
          const read = (ref) => Object.fromEntries(listFields.map((f) => [f, readField(f, ref)]));
          // The task as the cache now holds it: the mutation's answer merged
          // into what was known (a removed task's entry is still there).
          const ref = toReference({ __typename: 'Task', id });
          const current = removed ? null : read(ref);
          const before = removed ? read(ref) : previous;
          // Without the task as it was, this list's loaded pages tell.
          const was = before ? inList(args, before) : list.edges.some((e) => readField('id', e.node) === id);
          const is = current !== null && inList(args, current);
          const edges = placeTask(args, list.edges, list.pageInfo?.hasNextPage, current, {
            node: (edge) => read(edge.node),
            edgeOf: () => ({ __typename: 'TaskEdge', cursor: '', node: ref }),
          }, id);
          return { ...list, edges, totalCount: list.totalCount + Number(is) - Number(was) };
        },
      },
    });
    if (removed) {
      cache.evict({ id: cache.identify({ __typename: 'Task', id }) });
      cache.gc();
    }
  };
}

// listArgs reads a list's arguments back from its cache key
// (tasks:{"orderBy":…,"status":…}), as the keyArgs in createApolloClient
// make it.
function listArgs(storeFieldName) {
  const i = storeFieldName.indexOf(':');
  return i < 0 ? {} : JSON.parse(storeFieldName.slice(i + 1));
}
