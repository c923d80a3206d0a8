// Seed 003, "Change lambda to use request body": returns the event it was given.
exports.handler = (event, context, callback) => {
    callback(null, event);
};
