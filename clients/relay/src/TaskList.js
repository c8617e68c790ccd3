// A task screen's operations as a Relay app writes them: the Relay
// compiler (clients/test/relay.test.js) must accept them against
// schema.graphqls, with @connection on the tasks list and @refetchable on a
// Task (through Query.node) and on the list itself.
import { graphql } from 'react-relay';

export const taskListFragment = graphql`
  fragment TaskList_query on Query
  @argumentDefinitions(
    status: { type: "TaskStatus" }
    orderBy: { type: "TaskOrder" }
    search: { type: "String" }
    count: { type: "Int", defaultValue: 20 }
    cursor: { type: "String" }
  )
  @refetchable(queryName: "TaskListPaginationQuery") {
    tasks(status: $status, orderBy: $orderBy, search: $search, first: $count, after: $cursor)
    @connection(key: "TaskList_tasks", filters: ["status", "orderBy", "search"]) {
      totalCount
      edges {
        node {
          id
          ...TaskItem_task
        }
      }
    }
  }
`;

export const taskItemFragment = graphql`
  fragment TaskItem_task on Task @refetchable(queryName: "TaskItemRefetchQuery") {
    id
    title
    description
    status
    dueDate
    updatedAt
    owner {
      id
      stats { pending ongoing complete total }
    }
  }
`;

export const taskScreenQuery = graphql`
  query TaskListScreenQuery($status: TaskStatus, $orderBy: TaskOrder, $search: String) {
    ...TaskList_query @arguments(status: $status, orderBy: $orderBy, search: $search)
    me { id stats { pending ongoing complete total } }
  }
`;

export const createTaskMutation = graphql`
  mutation TaskListCreateMutation($input: CreateTaskInput!, $connections: [ID!]!) {
    createTask(input: $input) @appendNode(connections: $connections, edgeTypeName: "TaskEdge") {
      ...TaskItem_task
    }
  }
`;

export const removeTaskMutation = graphql`
  mutation TaskListRemoveMutation($id: ID!, $connections: [ID!]!) {
    removeTask(id: $id) {
      deletedTaskId @deleteEdge(connections: $connections) @deleteRecord
      stats { total }
    }
  }
`;
