// DeleteRecords through kafkajs's admin client: deletes records of `topic` partition 0 below
// `offset`, then prints the partition offsets (low and high watermarks) as JSON.
//   node delete_records.js <bootstrap> <topic> <offset>
const { Kafka, logLevel } = require('kafkajs')

async function main () {
  const [bootstrap, topic, offset] = process.argv.slice(2)
  const kafka = new Kafka({ clientId: 'interop-delete-records', brokers: [bootstrap], logLevel: logLevel.ERROR })
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.fetchTopicMetadata({ topics: [topic] }) // deleteTopicRecords needs the topic's metadata loaded
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset }] })
    const offsets = await admin.fetchTopicOffsets(topic)
    console.log(JSON.stringify(offsets))
  } finally {
    await admin.disconnect()
  }
}

main().catch(err => {
  console.error(`delete_records.js: ${err.name}: ${err.message}`)
  process.exit(1)
})
