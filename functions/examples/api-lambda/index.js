// Seed 003, "Create lambda": the first function bound to POST /api-lambda.
exports.handler = (event, context, callback) => {
    // callback is a method that is used to return info from the lambda function
    // first parameter is used to pass errors, here we do not have any errors so we pass null,
    // second param is the response
    callback(null, {message: 'I am lambda function'});
};
