// The Go clients against samsa-server, for tests/interop/test_go_clients.py. Each scenario
// writes COUNT records "<client>-<i>" with key "k<i>", a header and a timestamp to TOPIC (which
// it creates, 3 partitions), reads them back in a group, and prints one JSON line:
// {"produced": n, "read": n, "in_order": bool, "intact": bool, ...client-specific}.
//
//	samsa-go-interop franz BOOTSTRAP TOPIC COUNT    franz-go: default (idempotent) producer, a group consumer, kadm
//	samsa-go-interop sarama BOOTSTRAP TOPIC COUNT   sarama: sync and async producers, a consumer group
//	samsa-go-interop kafkago BOOTSTRAP TOPIC COUNT  kafka-go: Writer, Reader in a group, DialLeader
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const base = int64(1_700_000_000_000)

// check follows what a group consumer reads: every record once, offsets increasing per
// partition, key, value, header and timestamp as written.
type check struct {
	mu      sync.Mutex
	client  string
	seen    map[int]bool
	last    map[int32]int64
	inOrder bool
	intact  bool
}

func newCheck(client string) *check {
	return &check{client: client, seen: map[int]bool{}, last: map[int32]int64{}, inOrder: true, intact: true}
}

func (c *check) record(partition int32, offset int64, key, value, header string, ts time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if last, ok := c.last[partition]; ok && offset <= last {
		c.inOrder = false
	}
	c.last[partition] = offset
	i, err := strconv.Atoi(strings.TrimPrefix(value, c.client+"-"))
	if err != nil || key != "k"+strconv.Itoa(i) || header != c.client || ts.UnixMilli() != base+int64(i) || c.seen[i] {
		c.intact = false
	}
	c.seen[i] = true
}

func (c *check) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func franz(bootstrap, topic string, count int) map[string]any {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...))
	if err != nil {
		fail("franz client: %v", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, topic); err != nil {
		fail("kadm CreateTopic: %v", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	produced, errs := 0, []string{}
	for i := 0; i < count; i++ {
		r := &kgo.Record{Topic: topic, Key: []byte("k" + strconv.Itoa(i)), Value: []byte("franz-" + strconv.Itoa(i)),
			Headers: []kgo.RecordHeader{{Key: "client", Value: []byte("franz")}}, Timestamp: time.UnixMilli(base + int64(i))}
		wg.Add(1)
		cl.Produce(ctx, r, func(r *kgo.Record, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err.Error())
			} else {
				produced++
			}
		})
	}
	wg.Wait()

	consumer, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...), kgo.ConsumerGroup(topic+"-group"),
		kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	if err != nil {
		fail("franz consumer: %v", err)
	}
	ck := newCheck("franz")
	for ck.count() < count && ctx.Err() == nil {
		fetches := consumer.PollFetches(ctx)
		fetches.EachRecord(func(r *kgo.Record) {
			h := ""
			for _, x := range r.Headers {
				if x.Key == "client" {
					h = string(x.Value)
				}
			}
			ck.record(r.Partition, r.Offset, string(r.Key), string(r.Value), h, r.Timestamp)
		})
	}
	if err := consumer.CommitUncommittedOffsets(ctx); err != nil {
		fail("franz commit: %v", err)
	}
	consumer.Close()
	groups, err := adm.DescribeGroups(ctx, topic+"-group")
	if err != nil {
		fail("kadm DescribeGroups: %v", err)
	}
	offsets, err := adm.FetchOffsets(ctx, topic+"-group")
	if err != nil {
		fail("kadm FetchOffsets: %v", err)
	}
	committed := int64(0)
	offsets.Each(func(o kadm.OffsetResponse) { committed += o.At })
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		fail("kadm ListEndOffsets: %v", err)
	}
	end := int64(0)
	ends.Each(func(o kadm.ListedOffset) { end += o.Offset })
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		fail("kadm ListTopics: %v", err)
	}
	_, groupKnown := groups[topic+"-group"]
	return map[string]any{"produced": produced, "errors": errs, "read": ck.count(), "in_order": ck.inOrder,
		"intact": ck.intact, "committed": committed, "end_offsets": end, "group_described": groupKnown,
		"topic_listed": topics.Has(topic)}
}

type saramaHandler struct {
	ck   *check
	want int
	done chan struct{}
	once sync.Once
}

func (h *saramaHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *saramaHandler) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		hdr := ""
		for _, x := range m.Headers {
			if string(x.Key) == "client" {
				hdr = string(x.Value)
			}
		}
		h.ck.record(m.Partition, m.Offset, string(m.Key), string(m.Value), hdr, m.Timestamp)
		s.MarkMessage(m, "")
		if h.ck.count() >= h.want {
			h.once.Do(func() { close(h.done) })
		}
	}
	return nil
}

func saramaScenario(bootstrap, topic string, count int) map[string]any {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Idempotent = true
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewRoundRobinPartitioner
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	brokers := strings.Split(bootstrap, ",")
	admin, err := sarama.NewClusterAdmin(brokers, cfg)
	if err != nil {
		fail("sarama admin: %v", err)
	}
	defer admin.Close()
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false); err != nil {
		fail("sarama CreateTopic: %v", err)
	}
	msg := func(i int) *sarama.ProducerMessage {
		return &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder("k" + strconv.Itoa(i)),
			Value: sarama.StringEncoder("sarama-" + strconv.Itoa(i)), Timestamp: time.UnixMilli(base + int64(i)),
			Headers: []sarama.RecordHeader{{Key: []byte("client"), Value: []byte("sarama")}}}
	}
	// The first half through the sync producer, the second through the async one.
	sync1, err := sarama.NewSyncProducer(brokers, cfg)
	if err != nil {
		fail("sarama sync producer: %v", err)
	}
	produced, errs := 0, []string{}
	for i := 0; i < count/2; i++ {
		if _, _, err := sync1.SendMessage(msg(i)); err != nil {
			errs = append(errs, err.Error())
		} else {
			produced++
		}
	}
	sync1.Close()
	async, err := sarama.NewAsyncProducer(brokers, cfg)
	if err != nil {
		fail("sarama async producer: %v", err)
	}
	go func() {
		for i := count / 2; i < count; i++ {
			async.Input() <- msg(i)
		}
	}()
	for n := count / 2; n < count; n++ {
		select {
		case <-async.Successes():
			produced++
		case e := <-async.Errors():
			errs = append(errs, e.Error())
		}
	}
	async.Close()

	group, err := sarama.NewConsumerGroup(brokers, topic+"-group", cfg)
	if err != nil {
		fail("sarama consumer group: %v", err)
	}
	h := &saramaHandler{ck: newCheck("sarama"), want: count, done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	go func() {
		for ctx.Err() == nil {
			if err := group.Consume(ctx, []string{topic}, h); err != nil && ctx.Err() == nil {
				fmt.Fprintln(os.Stderr, "sarama consume:", err)
				time.Sleep(time.Second)
			}
		}
	}()
	select {
	case <-h.done:
	case <-ctx.Done():
	}
	cancel()
	group.Close()
	offs, err := admin.ListConsumerGroupOffsets(topic+"-group", map[string][]int32{topic: {0, 1, 2}})
	if err != nil {
		fail("sarama ListConsumerGroupOffsets: %v", err)
	}
	committed := int64(0)
	for _, b := range offs.Blocks[topic] {
		committed += b.Offset
	}
	return map[string]any{"produced": produced, "errors": errs, "read": h.ck.count(), "in_order": h.ck.inOrder,
		"intact": h.ck.intact, "committed": committed}
}

func kafkaGo(bootstrap, topic string, count int) map[string]any {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	first := strings.Split(bootstrap, ",")[0]
	conn, err := kafkago.DialContext(ctx, "tcp", first)
	if err != nil {
		fail("kafka-go dial: %v", err)
	}
	if err := conn.CreateTopics(kafkago.TopicConfig{Topic: topic, NumPartitions: 3, ReplicationFactor: 1}); err != nil {
		fail("kafka-go CreateTopics: %v", err)
	}
	conn.Close()
	w := &kafkago.Writer{Addr: kafkago.TCP(strings.Split(bootstrap, ",")...), Topic: topic, Balancer: &kafkago.RoundRobin{},
		RequiredAcks: kafkago.RequireAll, BatchTimeout: 5 * time.Millisecond}
	msgs := make([]kafkago.Message, count)
	for i := range msgs {
		msgs[i] = kafkago.Message{Key: []byte("k" + strconv.Itoa(i)), Value: []byte("kafkago-" + strconv.Itoa(i)),
			Headers: []kafkago.Header{{Key: "client", Value: []byte("kafkago")}}, Time: time.UnixMilli(base + int64(i))}
	}
	produced, errs := 0, []string{}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		errs = append(errs, err.Error())
	} else {
		produced = count
	}
	w.Close()
	r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: strings.Split(bootstrap, ","), GroupID: topic + "-group", Topic: topic,
		StartOffset: kafkago.FirstOffset, MaxWait: 200 * time.Millisecond})
	ck := newCheck("kafkago")
	for ck.count() < count && ctx.Err() == nil {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			break
		}
		hdr := ""
		for _, x := range m.Headers {
			if x.Key == "client" {
				hdr = string(x.Value)
			}
		}
		ck.record(int32(m.Partition), m.Offset, string(m.Key), string(m.Value), hdr, m.Time)
		if err := r.CommitMessages(ctx, m); err != nil {
			errs = append(errs, err.Error())
		}
	}
	r.Close()
	// The low-level connection to a partition's leader: write two messages, read them back.
	lc, err := kafkago.DialLeader(ctx, "tcp", first, topic+"-direct", 0)
	direct := []string{}
	if err == nil {
		lc.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err = lc.WriteMessages(kafkago.Message{Value: []byte("direct-1")}, kafkago.Message{Value: []byte("direct-2")}); err == nil {
			batch := lc.ReadBatch(1, 1<<20)
			for {
				m, e := batch.ReadMessage()
				if e != nil {
					break
				}
				direct = append(direct, string(m.Value))
				if len(direct) == 2 {
					break
				}
			}
			batch.Close()
		}
		lc.Close()
	}
	if err != nil {
		errs = append(errs, "DialLeader: "+err.Error())
	}
	return map[string]any{"produced": produced, "errors": errs, "read": ck.count(), "in_order": ck.inOrder,
		"intact": ck.intact, "direct": direct}
}

func main() {
	if len(os.Args) != 5 {
		fail("usage: samsa-go-interop franz|sarama|kafkago BOOTSTRAP TOPIC COUNT")
	}
	count, err := strconv.Atoi(os.Args[4])
	if err != nil {
		fail("COUNT: %v", err)
	}
	var out map[string]any
	switch os.Args[1] {
	case "franz":
		out = franz(os.Args[2], os.Args[3], count)
	case "sarama":
		out = saramaScenario(os.Args[2], os.Args[3], count)
	case "kafkago":
		out = kafkaGo(os.Args[2], os.Args[3], count)
	default:
		fail("unknown scenario %s", os.Args[1])
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}
