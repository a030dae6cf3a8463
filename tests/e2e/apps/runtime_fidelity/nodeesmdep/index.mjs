import x from 'x';
export const handler = async () => x;
