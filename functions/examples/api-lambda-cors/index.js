// Seed 003, "Integration Request with enabled Use Lambda Proxy integration": with a proxy
// integration the function itself returns the CORS header.
exports.handler = (event, context, callback) => {
    console.log('Event content: ' + JSON.stringify(event));
    callback(null, {headers: {'Access-Control-Allow-Origin': '*'}});
};
