import { Client, fetchExchange } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';

import { inList, placeTask } from './tasklists.js';
import { sessionExchange } from './urql.js';

// The fields of a task the list rules read (tasklists.js): what the node of
// the app's list query selects.
const listFields = ['id', 'status', 'title', 'description', 'createdAt', 'updatedAt', 'dueDate'];

// Types without an id: graphcache keeps them inside their parent.
const embedded = ['TaskStats', 'PageInfo', 'TaskConnection', 'TaskEdge', 'UserConnection', 'UserEdge', 'AuthPayload', 'DeleteTaskPayload'];

// createUrqlGraphcacheClient is createUrqlClient with urql's normalized
// cache (@urql/exchange-graphcache). tasksQuery is the app's task list
// query (variables status, orderBy, search, first, after; its node selects
// listFields): after createTask, updateTask and removeTask every cached list
// of it shows the change in its place, without a refetch. Select
// `owner { id stats { … } }` in the mutations (in removeTask:
// `task { id owner { … } }`) and `me.stats` follows.
export function createUrqlGraphcacheClient(url, session, tasksQuery) {
  return new Client({
    url,
    exchanges: [
      cacheExchange({
        keys: Object.fromEntries(embedded.map((type) => [type, () => null])),
        // task(id) is the Task:<id> the cache holds, when it holds it.
        resolvers: { Query: { task: (_, { id }) => ({ __typename: 'Task', id }) } },
        updates: {
          Mutation: {
            createTask: (result, _, cache) => updateLists(cache, tasksQuery, result.createTask.id, null),
            updateTask: (result, _, cache) => updateLists(cache, tasksQuery, result.updateTask.id, null),
            removeTask: (result, _, cache) => {
              const id = result.removeTask.deletedTaskId;
              updateLists(cache, tasksQuery, id, read(cache, cache.keyOfEntity({ __typename: 'Task', id })));
              cache.invalidate({ __typename: 'Task', id });
            },
          },
        },
      }),
      sessionExchange(session),
      fetchExchange,
    ],
  });
}

// updateLists places task id (removed: gone, as it was) in every cached
// list of query. urql's updates run after the answer is written, so a list
// tells by its loaded pages whether it held a changed task: the totalCount
// of a list whose loaded pages do not show it can be one off until it is
// fetched again.
function updateLists(cache, query, id, removed) {
  const key = cache.keyOfEntity({ __typename: 'Task', id });
  const current = removed ? null : read(cache, key);
  for (const field of cache.inspectFields('Query').filter((f) => f.fieldName === 'tasks')) {
    const args = field.arguments ?? {};
    cache.updateQuery({ query, variables: args }, (data) => {
      if (!data?.tasks) return data;
      const list = data.tasks;
      const was = removed ? inList(args, removed) : list.edges.some((e) => e.node.id === id);
      const is = current !== null && inList(args, current);
      list.edges = placeTask(args, list.edges, list.pageInfo?.hasNextPage, current, {
        node: (edge) => edge.node,
        edgeOf: (task) => ({ __typename: 'TaskEdge', cursor: '', node: { __typename: 'Task', ...task } }),
      }, id);
      list.totalCount += Number(is) - Number(was);
      return data;
    });
  }
}

function read(cache, key) {
  return Object.fromEntries(listFields.map((f) => [f, cache.resolve(key, f) ?? null]));
}
