package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TTLAttribute is the users table's time-to-live attribute (the session
// items'), the same in Terraform.
const TTLAttribute = attrExpiresAt

// tableSpec is a table of the layout: its key, global secondary indexes and
// time-to-live attribute.
type tableSpec struct {
	name    string
	attrs   []types.AttributeDefinition
	key     []types.KeySchemaElement
	indexes []types.GlobalSecondaryIndex
	ttl     string // time-to-live attribute, if any
}

func attr(name string) types.AttributeDefinition {
	return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
}

func hash(name string) types.KeySchemaElement {
	return types.KeySchemaElement{AttributeName: aws.String(name), KeyType: types.KeyTypeHash}
}

func rangeKey(name string) types.KeySchemaElement {
	return types.KeySchemaElement{AttributeName: aws.String(name), KeyType: types.KeyTypeRange}
}

// gsi is an index of partition key pk and sort key sk projecting every
// attribute: a page is read from the index alone.
func gsi(name, pk, sk string) types.GlobalSecondaryIndex {
	return types.GlobalSecondaryIndex{
		IndexName: aws.String(name), KeySchema: []types.KeySchemaElement{hash(pk), rangeKey(sk)},
		Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
	}
}

func (s *Store) specs() []tableSpec {
	all := &types.Projection{ProjectionType: types.ProjectionTypeAll}
	return []tableSpec{
		{
			name:  s.tables.Users,
			attrs: []types.AttributeDefinition{attr(attrUserID), attr(attrEmail)},
			key:   []types.KeySchemaElement{hash(attrUserID)},
			indexes: []types.GlobalSecondaryIndex{{
				IndexName: aws.String(EmailIndex), KeySchema: []types.KeySchemaElement{hash(attrEmail)}, Projection: all,
			}},
			ttl: TTLAttribute,
		},
		{
			name: s.tables.Tasks,
			attrs: []types.AttributeDefinition{
				attr(attrUserID), attr(attrTaskID), attr(attrStatusTaskID),
				attr(attrUpdatedKey), attr(attrDueKey), attr(attrUserStatus),
			},
			key: []types.KeySchemaElement{hash(attrUserID), rangeKey(attrTaskID)},
			indexes: []types.GlobalSecondaryIndex{
				gsi(StatusIndex, attrUserID, attrStatusTaskID),
				gsi(UpdatedIndex, attrUserID, attrUpdatedKey),
				gsi(DueIndex, attrUserID, attrDueKey),
				gsi(StatusUpdatedIndex, attrUserStatus, attrUpdatedKey),
				gsi(StatusDueIndex, attrUserStatus, attrDueKey),
			},
		},
	}
}

// CreateTables creates both tables (on-demand capacity) with their indexes
// and waits until they are ACTIVE. It is idempotent: an existing table is
// kept, checked to have the expected key, and given any index it lacks
// (e.g. status-index on a tasks table made by the legacy app, or the order
// indexes on one made before them), one at a time: DynamoDB creates one GSI
// per UpdateTable, and each is backfilled before the next can start. Items
// written before their index attributes existed are in no new index until
// `taskapi verify -repair` (or migrate-legacy) adds them (Reconcile).
func (s *Store) CreateTables(ctx context.Context) error {
	for _, spec := range s.specs() {
		if err := s.ensureTable(ctx, spec); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) ensureTable(ctx context.Context, spec tableSpec) error {
	_, err := s.db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:              aws.String(spec.name),
		AttributeDefinitions:   spec.attrs,
		KeySchema:              spec.key,
		GlobalSecondaryIndexes: spec.indexes,
		BillingMode:            types.BillingModePayPerRequest,
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("dynamo: create table %s: %w", spec.name, err)
	}
	desc, err := s.waitActive(ctx, spec.name)
	if err != nil {
		return err
	}
	if !sameKey(desc.KeySchema, spec.key) {
		return fmt.Errorf("dynamo: table %s exists with another key schema than %s", spec.name, keyString(spec.key))
	}
	for _, idx := range spec.indexes {
		if hasIndex(desc, aws.ToString(idx.IndexName)) {
			continue
		}
		// One index per UpdateTable, on an ACTIVE table, defining the
		// attributes of the table's key and of that index only.
		_, err := s.db.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName:            aws.String(spec.name),
			AttributeDefinitions: keyAttrs(spec, idx),
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
				IndexName: idx.IndexName, KeySchema: idx.KeySchema, Projection: idx.Projection,
			}}},
		})
		if err != nil {
			return fmt.Errorf("dynamo: add index %s to table %s: %w", aws.ToString(idx.IndexName), spec.name, err)
		}
		if desc, err = s.waitActive(ctx, spec.name); err != nil {
			return err
		}
	}
	if spec.ttl != "" {
		return s.ensureTTL(ctx, spec)
	}
	return nil
}

// keyAttrs returns the definitions, of spec's, of the attributes of the
// table's key and idx's.
func keyAttrs(spec tableSpec, idx types.GlobalSecondaryIndex) []types.AttributeDefinition {
	var out []types.AttributeDefinition
	for _, a := range spec.attrs {
		in := func(k types.KeySchemaElement) bool {
			return aws.ToString(k.AttributeName) == aws.ToString(a.AttributeName)
		}
		if slices.ContainsFunc(spec.key, in) || slices.ContainsFunc(idx.KeySchema, in) {
			out = append(out, a)
		}
	}
	return out
}

// ensureTTL turns on the table's time to live on spec.ttl, unless it is
// already on (an UpdateTimeToLive that changes nothing is an error).
func (s *Store) ensureTTL(ctx context.Context, spec tableSpec) error {
	cur, err := s.db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(spec.name)})
	if err != nil {
		return fmt.Errorf("dynamo: describe time to live of %s: %w", spec.name, err)
	}
	if d := cur.TimeToLiveDescription; d != nil && aws.ToString(d.AttributeName) == spec.ttl &&
		(d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = s.db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(spec.name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(spec.ttl), Enabled: aws.Bool(true)},
	})
	if err != nil {
		return fmt.Errorf("dynamo: turn on time to live (%s) of %s: %w", spec.ttl, spec.name, err)
	}
	return nil
}

// waitActive polls until the table and all its indexes are ACTIVE (an
// index being backfilled is not yet usable).
func (s *Store) waitActive(ctx context.Context, name string) (*types.TableDescription, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	delay := 50 * time.Millisecond
	for {
		out, err := s.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		var notFound *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &notFound) { // just created: may not be visible yet
			return nil, fmt.Errorf("dynamo: describe table %s: %w", name, err)
		}
		if err == nil && active(out.Table) {
			return out.Table, nil
		}
		if err := sleep(ctx, delay); err != nil {
			return nil, fmt.Errorf("dynamo: table %s did not become ACTIVE: %w", name, err)
		}
		delay = min(2*delay, 5*time.Second)
	}
}

func active(t *types.TableDescription) bool {
	if t == nil || t.TableStatus != types.TableStatusActive {
		return false
	}
	for _, g := range t.GlobalSecondaryIndexes {
		if g.IndexStatus != types.IndexStatusActive {
			return false
		}
	}
	return true
}

func hasIndex(t *types.TableDescription, name string) bool {
	return slices.ContainsFunc(t.GlobalSecondaryIndexes, func(g types.GlobalSecondaryIndexDescription) bool {
		return aws.ToString(g.IndexName) == name
	})
}

func sameKey(a, b []types.KeySchemaElement) bool {
	return slices.EqualFunc(a, b, func(x, y types.KeySchemaElement) bool {
		return aws.ToString(x.AttributeName) == aws.ToString(y.AttributeName) && x.KeyType == y.KeyType
	})
}

func keyString(k []types.KeySchemaElement) string {
	s := ""
	for i, e := range k {
		if i > 0 {
			s += ", "
		}
		s += aws.ToString(e.AttributeName) + " " + string(e.KeyType)
	}
	return "(" + s + ")"
}
