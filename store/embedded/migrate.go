package embedded

import (
	"encoding/json"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/taskapi/taskapi/core"
)

// migrations[i] brings a file from schema version i to i+1 (version 0 is a
// new, empty file). Open applies the missing ones in order, in one
// transaction, so a file is always at one version; a file newer than this
// binary is refused. Add a layout change as a new function at the end,
// never by editing an old one: files in the field are at every version.
var migrations = []func(*bolt.Tx) error{
	createV1,
	usersByID,
	addSessions,
	taskIndexes,
}

func currentSchema() string { return strconv.Itoa(len(migrations)) }

func migrate(tx *bolt.Tx) error {
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	from := 0
	if v := meta.Get(keySchema); v != nil {
		if from, err = strconv.Atoi(string(v)); err != nil || from < 0 {
			return fmt.Errorf("unreadable schema version %q", v)
		}
	}
	if from > len(migrations) {
		return fmt.Errorf("unsupported schema version %d (this taskapi knows up to %d): use a newer taskapi", from, len(migrations))
	}
	for i := from; i < len(migrations); i++ {
		if err := migrations[i](tx); err != nil {
			return fmt.Errorf("migrating to schema version %d: %w", i+1, err)
		}
	}
	return tx.Bucket(bucketMeta).Put(keySchema, []byte(currentSchema()))
}

// createV1 is the first layout: users keyed by their 8-byte number, emails
// lowercased, tasks, status indexes and stats.
func createV1(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketMeta, bucketUsers, bucketEmails, bucketTasks, bucketByStatus, bucketStats} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	return nil
}

// usersByID (version 2) keys users by their ID instead of a number the
// store parsed out of it, orders them through users_by_created, keys the
// email guards by core.EmailKey, keeps the id sequence in meta, and counts
// users by role and status.
func usersByID(tx *bolt.Tx) error {
	old := tx.Bucket(bucketUsers)
	seq := old.Sequence()
	var users []userRecord
	err := old.ForEach(func(_, v []byte) error {
		var r userRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		users = append(users, r)
		return nil
	})
	if err != nil {
		return err
	}
	for _, name := range [][]byte{bucketUsers, bucketEmails} {
		if err := tx.DeleteBucket(name); err != nil {
			return err
		}
	}
	b := map[string]*bolt.Bucket{}
	for _, name := range [][]byte{bucketUsers, bucketEmails, bucketByCreated} {
		if b[string(name)], err = tx.CreateBucket(name); err != nil {
			return err
		}
	}
	counts := userCounts{}
	for _, r := range users {
		if err := putJSON(b[string(bucketUsers)], []byte(r.ID), r); err != nil {
			return err
		}
		if err := b[string(bucketByCreated)].Put(createdKey(r), nil); err != nil {
			return err
		}
		if err := b[string(bucketEmails)].Put([]byte(core.Email(r.Email).Key()), []byte(r.ID)); err != nil {
			return err
		}
		counts[countKey(core.Role(r.Role), core.ActivationStatus(r.ActivationStatus))]++
	}
	meta := tx.Bucket(bucketMeta)
	if err := putJSON(meta, keyUserCounts, counts); err != nil {
		return err
	}
	return meta.Put(keyUserSeq, u64(seq))
}

// addSessions (version 3) adds the sessions bucket: session ID →
// sessionRecord; users carry their live sessions' ids in the record.
func addSessions(tx *bolt.Tx) error {
	_, err := tx.CreateBucketIfNotExists(bucketSessions)
	return err
}

// taskIndexes (version 4) replaces by_status with task_index: every task
// in each order, for all of a user's tasks and per status, each entry
// holding the task's search text (indexTask).
func taskIndexes(tx *bolt.Tx) error {
	if _, err := tx.CreateBucketIfNotExists(bucketTaskIndex); err != nil {
		return err
	}
	err := tx.Bucket(bucketTasks).ForEachBucket(func(user []byte) error {
		return tx.Bucket(bucketTasks).Bucket(user).ForEach(func(k, v []byte) error {
			var r taskRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("task %s: %w", k, err)
			}
			t := r.task()
			t.UserID = string(user)
			return indexTask(tx, t, true)
		})
	})
	if err != nil {
		return err
	}
	if tx.Bucket(bucketByStatus) != nil {
		return tx.DeleteBucket(bucketByStatus)
	}
	return nil
}
