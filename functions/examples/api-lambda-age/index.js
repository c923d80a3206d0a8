// Seed 003, "Integration Request with disabled Use Lambda Proxy integration": the request
// template {"age" : $input.json('$.personData.age')} makes the event; without a template
// the whole body ({"personData": {"age": 26}}) arrives, and both shapes are accepted here.
exports.handler = (event, context, callback) => {
    console.log('Event content: ' + JSON.stringify(event));
    const newAge = event.age !== undefined ? event.age : event.personData.age;
    callback(null, newAge * 2);
};
