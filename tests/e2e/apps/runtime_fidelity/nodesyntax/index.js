exports.handler = async () => {
  return (1;
};
